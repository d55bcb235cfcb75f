import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { ConnectionGuard, DEFAULT_CONNECTION_LIMITS } from './connection-guard';

/** A raw client: its socket, what it has received, and whether the server closed it. */
interface Raw {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ConnectionGuard: MAX_CONNECTIONS', () => {
  let server: Server;
  let guard: ConnectionGuard;
  let port: number;
  const refused: string[] = [];
  /** Responses to GET /hold, answered by the test. */
  const held: ServerResponse[] = [];
  const clients: Raw[] = [];

  async function start(maxConnections: number): Promise<void> {
    server = createServer((req, res) => {
      if (req.url === '/hold') return void held.push(res);
      res.end('ok');
    });
    guard = new ConnectionGuard(server, { ...DEFAULT_CONNECTION_LIMITS, maxConnections }, (reason) => refused.push(reason));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  async function open(): Promise<Raw> {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const raw = { socket, received: () => text, closed };
    clients.push(raw);
    // The server has seen the connection once it counts it.
    for (let i = 0; i < 100 && guard.openConnections < clients.filter((c) => !c.socket.destroyed).length; i++) await sleep(5);
    return raw;
  }

  async function get(raw: Raw, path: string): Promise<void> {
    const before = raw.received().length;
    raw.socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
    if (path === '/hold') {
      for (let i = 0; i < 100 && held.length === 0; i++) await sleep(5);
      return;
    }
    for (let i = 0; i < 100 && !raw.received().slice(before).includes('ok'); i++) await sleep(5);
  }

  afterEach(async () => {
    held.splice(0).forEach((res) => res.end());
    clients.splice(0).forEach((c) => c.socket.destroy());
    refused.length = 0;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('past the limit closes the socket idle the longest (by when it last finished a response), not the oldest one', async () => {
    await start(3);
    const a = await open();
    const b = await open();
    const c = await open();
    // a served a request after b and c connected: b is now the longest idle.
    await get(a, '/ok');
    await sleep(20);
    const d = await open();
    await b.closed;
    expect([a, c, d].map((r) => r.socket.destroyed)).toEqual([false, false, false]);
    expect(refused).toEqual([]);
    await get(d, '/ok');
    expect(d.received()).toContain('200 OK');
  });

  it('never closes a socket with a request in progress; when every socket is busy the new one gets a JSON 503', async () => {
    await start(2);
    const a = await open();
    const b = await open();
    await get(a, '/hold');
    await get(b, '/hold');
    const c = await open();
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(c.received()).toContain('retry-after: 1');
    expect(JSON.parse(c.received().split('\r\n\r\n')[1]).detail).toMatch(/limit of 2 open connections \(MAX_CONNECTIONS\)/);
    expect(refused).toEqual(['connections']);
    expect([a.socket.destroyed, b.socket.destroyed]).toEqual([false, false]);
    // Once a's response is done, a is idle and the next newcomer closes it rather than being refused.
    held.shift()!.end('done');
    await sleep(20);
    const d = await open();
    await a.closed;
    expect(d.socket.destroyed).toBe(false);
    expect(refused).toEqual(['connections']);
  });

  it('counts open connections, and forgets closed ones', async () => {
    await start(10);
    const a = await open();
    await open();
    expect(guard.openConnections).toBe(2);
    a.socket.destroy();
    for (let i = 0; i < 100 && guard.openConnections !== 1; i++) await sleep(5);
    expect(guard.openConnections).toBe(1);
  });
});
