import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { RunnableLambda } from '@langchain/core/runnables';
import { type Browser, chromium, type Page } from 'playwright-core';
import { z } from 'zod';
import { serverTimeouts } from '../src/http/connection-guard';
import { checkInputBounds } from '../src/protocol/input-bounds';
import { encodeConfigHash } from '../src/protocol/run-config';
import { startTestGateway, type TestGateway } from './gateway-harness';
import { words } from '../src/runnables/echo-runnable';

const RUN_ENDPOINTS = ['invoke', 'batch', 'stream', 'stream_log', 'stream_events'] as const;

/** `levels` nested arrays around `leaf`, as JSON text (built as text: JSON.stringify itself recurses). */
function deepArray(levels: number, leaf = '1'): string {
  return '['.repeat(levels) + leaf + ']'.repeat(levels);
}

/** A request body for `endpoint` whose input is the given JSON text. */
function bodyWithInput(endpoint: string, inputJson: string, extra = ''): string {
  const field = endpoint === 'batch' ? `"inputs":[${inputJson}]` : `"input":${inputJson}`;
  return `{${field}${extra}}`;
}

async function post(url: string, body: string): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** A 4xx that says what is wrong in `detail` and carries no stack trace. */
function expectClientError(res: { status: number; text: string; json: any }, status: number, detail: RegExp): void {
  expect({ status: res.status, detail: res.json?.detail }).toEqual({ status, detail: expect.stringMatching(detail) });
  expect(res.text).not.toMatch(/\n\s+at |RangeError|stack/);
}

describe('input nesting depth and size', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ MAX_INPUT_DEPTH: '100', MAX_INPUT_ITEMS: '1000' }, {
      register: (r) => {
        type Tree = { child?: Tree };
        const tree: z.ZodType<Tree> = z.lazy(() => z.object({ child: tree.optional() }));
        r.addRoutes(RunnableLambda.from(async (x: Tree) => x), { path: 'tree', inputSchema: tree, configurableSchema: z.object({ user: z.string() }).strict() });
      },
    });
  });
  afterAll(() => gw.close());

  for (const endpoint of RUN_ENDPOINTS) {
    it(`${endpoint}: a 100,000-deep input → 422 naming MAX_INPUT_DEPTH`, async () => {
      const res = await post(`${gw.url}/echo/${endpoint}`, bodyWithInput(endpoint, deepArray(100_000)));
      expectClientError(res, 422, /MAX_INPUT_DEPTH \(100\)/);
    });

    it(`${endpoint}: a deep config or kwargs → 422 naming MAX_INPUT_DEPTH`, async () => {
      for (const extra of [`,"config":{"configurable":{"x":${deepArray(100_000)}}}`, `,"kwargs":${deepArray(100_000)}`]) {
        const res = await post(`${gw.url}/echo/${endpoint}`, bodyWithInput(endpoint, '1', extra));
        expectClientError(res, 422, /MAX_INPUT_DEPTH \(100\)/);
      }
    });

    it(`${endpoint}: a deep config in the c/{hash} route → 422 naming MAX_INPUT_DEPTH`, async () => {
      const hash = encodeConfigHash(JSON.parse(`{"configurable":{"x":${deepArray(50)}}}`));
      // Built from text: the object would be too deep to stringify here.
      const deepHash = (await import('lz-string')).default.compressToEncodedURIComponent(`{"configurable":{"x":${deepArray(100_000)}}}`);
      expect((await post(`${gw.url}/echo/c/${hash}/${endpoint}`, bodyWithInput(endpoint, '1'))).status).toBe(200);
      const res = await post(`${gw.url}/echo/c/${deepHash}/${endpoint}`, bodyWithInput(endpoint, '1'));
      expectClientError(res, 422, /MAX_INPUT_DEPTH \(100\)/);
    });

    it(`${endpoint}: input nested up to the limit is served, through a recursive input schema too`, async () => {
      // The body object is level 1, batch's inputs array level 2.
      const levels = endpoint === 'batch' ? 98 : 99;
      const echo = await post(`${gw.url}/echo/${endpoint}`, bodyWithInput(endpoint, deepArray(levels)));
      expect(echo.status).toBe(200);
      expect(echo.text).not.toMatch(/event: error/);
      const tree = '{"child":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
      const res = await post(`${gw.url}/tree/${endpoint}`, bodyWithInput(endpoint, tree));
      expect(res.status).toBe(200);
      expect(res.text).not.toMatch(/event: error/);
    });

    it(`${endpoint}: an array or object with more entries than MAX_INPUT_ITEMS → 422 naming it`, async () => {
      const items = `[${Array.from({ length: 1001 }, () => '0').join(',')}]`;
      const keys = `{${Array.from({ length: 1001 }, (_, i) => `"k${i}":0`).join(',')}}`;
      for (const input of [items, keys]) {
        const res = await post(`${gw.url}/echo/${endpoint}`, bodyWithInput(endpoint, input));
        expectClientError(res, 422, /MAX_INPUT_ITEMS \(1000\)/);
      }
      const ok = await post(`${gw.url}/echo/${endpoint}`, bodyWithInput(endpoint, `[${Array.from({ length: 1000 }, () => '0').join(',')}]`));
      expect(ok.status).toBe(200);
    });
  }

  it('a c/{hash} longer than 4096 characters → 414 before it is decompressed', async () => {
    const lz = (await import('lz-string')).default;
    // A run of one character compresses quadratically in LZString: an 8,400-character hash holds 10 MB. Here,
    // text that hardly compresses, to make a long hash quickly.
    const bomb = lz.compressToEncodedURIComponent(JSON.stringify({ configurable: { x: randomBytes(6_000).toString('base64') } }));
    expect(bomb.length).toBeGreaterThan(4_096);
    const res = await post(`${gw.url}/echo/c/${bomb}/invoke`, '{"input":1}');
    expectClientError(res, 414, /config hash.*4096 characters/);
    const ok = lz.compressToEncodedURIComponent(JSON.stringify({ configurable: { prompt: 'You are a helpful assistant. '.repeat(100) } }));
    expect((await post(`${gw.url}/echo/c/${ok}/invoke`, '{"input":1}')).status).toBe(200);
  });

  it('batch: more inputs than MAX_INPUT_ITEMS → 422', async () => {
    const res = await post(`${gw.url}/echo/batch`, `{"inputs":[${Array.from({ length: 1001 }, () => '1').join(',')}]}`);
    expectClientError(res, 422, /body\.inputs.*MAX_INPUT_ITEMS \(1000\)/);
  });

  it('a huge key or value in a validation error is cut short in `detail`, not echoed whole', async () => {
    const key = 'k'.repeat(50_000);
    const res = await post(`${gw.url}/tree/invoke`, JSON.stringify({ input: {}, config: { configurable: { [key]: 1 } } }));
    expectClientError(res, 422, /config\.configurable/);
    expect(res.text.length).toBeLessThan(2_000);
    const configurable = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`${i}${key.slice(0, 100)}`, 1]));
    const many = await post(`${gw.url}/tree/invoke`, JSON.stringify({ input: {}, config: { configurable } }));
    expectClientError(many, 422, /config\.configurable: Unrecognized keys/);
    expect(many.text.length).toBeLessThan(2_000);
  });

  it('keeps serving, with no error logged', async () => {
    const res = await post(`${gw.url}/echo/invoke`, '{"input":"still here"}');
    expect(res.json.output).toBe('still here');
    expect(gw.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });
});

/** One request on a connection of its own (no keep-alive pool), as a client arriving fresh would send it. */
function freshInvoke(base: string, input: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/echo/invoke`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ input }));
  });
}

/** A raw socket that records what the server sends and when it closes the connection. */
interface RawClient {
  socket: Socket;
  received: () => string;
  closed: Promise<number>;
}

function rawClient(base: string, onConnect: (socket: Socket) => void = () => undefined): Promise<RawClient> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let data = '';
    let markClosed!: (ms: number) => void;
    const closed = new Promise<number>((r) => (markClosed = r));
    const socket = connect(Number(url.port), url.hostname, () => {
      onConnect(socket);
      resolve({ socket, received: () => data, closed });
    });
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', () => undefined);
    socket.on('close', () => markClosed(Date.now() - started));
    socket.once('error', reject);
  });
}

/** Keeps invoking over fresh connections until `until` settles; every answer must be a 200 echo. */
async function normalTraffic(base: string, until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.finally(() => (done = true));
  let served = 0;
  while (!done) {
    const res = await freshInvoke(base, `hello ${served}`);
    expect(res).toEqual({ status: 200, body: expect.objectContaining({ output: `hello ${served}` }) });
    served++;
    await new Promise((r) => setTimeout(r, 20));
  }
  return served;
}

function jsonBodyOf(rawResponse: string): any {
  return JSON.parse(rawResponse.slice(rawResponse.indexOf('\r\n\r\n') + 4));
}

describe('slow and idle clients', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // Fewer request slots than slow clients: a request still sending its body must not hold one.
    gw = await startTestGateway({ HEADERS_TIMEOUT: '0.5', BODY_TIMEOUT: '1', KEEP_ALIVE_TIMEOUT: '0.5', MAX_CONNECTIONS: '5000', MAX_CONCURRENT_REQUESTS: '4' });
  });
  afterAll(() => gw.close());

  it('headers trickled a byte at a time are cut off at HEADERS_TIMEOUT (408 with detail) while others are served', async () => {
    const timers: NodeJS.Timeout[] = [];
    const slow = await Promise.all(
      Array.from({ length: 20 }, () =>
        rawClient(gw.url, (socket) => {
          socket.write('POST /echo/invoke HTTP/1.1\r\nHost: x\r\nX-Slow: ');
          timers.push(setInterval(() => socket.writable && socket.write('a'), 100));
        }),
      ),
    );
    const closedAfter = Promise.all(slow.map((c) => c.closed));
    const served = await normalTraffic(gw.url, Promise.race([closedAfter, new Promise((r) => setTimeout(r, 4_000))]));
    timers.forEach(clearInterval);
    slow.forEach((c) => c.socket.destroy());
    for (const ms of await closedAfter) expect(ms).toBeLessThan(2_500);
    expect(served).toBeGreaterThan(3);
    const answer = slow[0].received();
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(jsonBodyOf(answer).detail).toMatch(/HEADERS_TIMEOUT/);
  });

  it('a body that never ends is cut off at BODY_TIMEOUT (408 with detail) while others are served', async () => {
    const slow = await Promise.all([
      // Declared length, a part sent, then silence.
      ...Array.from({ length: 5 }, () =>
        rawClient(gw.url, (s) => s.write('POST /echo/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"input": "')),
      ),
      // Chunked, a chunk every 200 ms, never the last one.
      ...Array.from({ length: 5 }, () =>
        rawClient(gw.url, (s) => {
          s.write('POST /echo/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{"\r\n');
          const t = setInterval(() => (s.writable ? s.write('1\r\na\r\n') : clearInterval(t)), 200);
          s.on('close', () => clearInterval(t));
        }),
      ),
    ]);
    const closedAfter = Promise.all(slow.map((c) => c.closed));
    const served = await normalTraffic(gw.url, Promise.race([closedAfter, new Promise((r) => setTimeout(r, 5_000))]));
    slow.forEach((c) => c.socket.destroy());
    for (const ms of await closedAfter) expect(ms).toBeLessThan(3_000);
    expect(served).toBeGreaterThan(3);
    for (const c of slow) {
      expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(jsonBodyOf(c.received()).detail).toMatch(/BODY_TIMEOUT/);
    }
    expect(gw.app.server.inFlight).toBe(0);
  });

  it('a client that leaves while sending its body is counted (499 for the request, 408 for a timeout) and holds nothing', async () => {
    const metric = async (status: string) => {
      const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('runnel_gateway_requests_total{') && l.includes('endpoint="invoke"') && l.includes(`status="${status}"`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const before = await metric('499');
    const leaving = await rawClient(gw.url, (s) => s.write('POST /echo/invoke HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{"in'));
    await new Promise((r) => setTimeout(r, 100));
    leaving.socket.destroy();
    await leaving.closed;
    for (let i = 0; i < 50 && (await metric('499')) === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await metric('499')).toBe(before + 1);
    expect(await metric('408')).toBeGreaterThanOrEqual(10); // the never-ending bodies above
    expect(gw.app.server.inFlight).toBe(0);
    expect((await freshInvoke(gw.url, 'after')).status).toBe(200);
  });

  it('a thousand idle sockets (kept alive after a request, or silent from the start) are closed by their timeouts while others are served', async () => {
    const request = 'POST /echo/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"input":1}';
    const idle: RawClient[] = [];
    for (let i = 0; i < 1_000; i += 100) {
      idle.push(...(await Promise.all(Array.from({ length: 100 }, (_, j) => rawClient(gw.url, (s) => (i + j) % 2 === 0 && s.write(request))))));
    }
    const closedAfter = Promise.all(idle.map((c) => c.closed));
    const served = await normalTraffic(gw.url, Promise.race([closedAfter, new Promise((r) => setTimeout(r, 6_000))]));
    idle.forEach((c) => c.socket.destroy());
    for (const ms of await closedAfter) expect(ms).toBeLessThan(5_000);
    expect(served).toBeGreaterThan(3);
    // 500 requests at once against 4 slots: answered or refused, every one.
    for (const c of idle.filter((_, i) => i % 2 === 0)) expect(c.received()).toMatch(/^HTTP\/1\.1 (200|503) /);
  });
});

describe('connection limit', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ MAX_CONNECTIONS: '200' });
  });
  afterAll(() => gw.close());

  it('past MAX_CONNECTIONS the oldest idle connections make room, so new clients are still served', async () => {
    const idle: RawClient[] = [];
    for (let i = 0; i < 1_000; i += 100) idle.push(...(await Promise.all(Array.from({ length: 100 }, () => rawClient(gw.url)))));
    const open = () => new Promise<number>((resolve, reject) => gw.app.server.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    expect(await open()).toBeLessThanOrEqual(200);
    for (let i = 0; i < 20; i++) expect((await freshInvoke(gw.url, i)).status).toBe(200);
    expect(await open()).toBeLessThanOrEqual(200);
    const stillOpen = idle.filter((c) => !c.socket.destroyed && c.socket.readyState === 'open');
    expect(stillOpen.length).toBeLessThanOrEqual(200);
    idle.forEach((c) => c.socket.destroy());
  });
});

describe('MAX_INPUT_DEPTH at its largest allowed value', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ MAX_INPUT_DEPTH: '1000' }, {
      register: (r) => {
        type Tree = { child?: Tree };
        const tree: z.ZodType<Tree> = z.lazy(() => z.object({ child: tree.optional() }));
        r.addRoutes(RunnableLambda.from(async (x: Tree) => x), { path: 'tree', inputSchema: tree, configurableSchema: z.record(z.string(), z.unknown()) });
      },
    });
  });
  afterAll(() => gw.close());

  // The bound is only worth having if nothing below it overflows the stack: schemas, revive, LangChain, serialization.
  for (const endpoint of RUN_ENDPOINTS) {
    it(`${endpoint}: input, config and a c/{hash} config nested 990 levels are served`, async () => {
      const levels = 990;
      const tree = '{"child":'.repeat(levels) + '{}' + '}'.repeat(levels);
      const hash = (await import('lz-string')).default.compressToEncodedURIComponent(`{"configurable":{"deep":${deepArray(levels)}}}`);
      for (const url of [`${gw.url}/echo/${endpoint}`, `${gw.url}/tree/${endpoint}`, `${gw.url}/tree/c/${hash}/${endpoint}`]) {
        const res = await post(url, bodyWithInput(endpoint, url.includes('/echo/') ? deepArray(levels) : tree, `,"config":{"configurable":{"x":${deepArray(levels)}}}`));
        expect({ url, status: res.status, error: /event: error/.test(res.text) }).toEqual({ url, status: 200, error: false });
      }
    });
  }

  it('logs no error', () => {
    expect(gw.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });
});

describe('playground with huge outputs (chromium)', () => {
  let browser: Browser;
  let gw: TestGateway;
  beforeAll(async () => {
    [browser, gw] = await Promise.all([
      chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] }),
      // A runnable that streams its input word by word, however many words (echo groups long texts).
      startTestGateway({}, { register: (r) => r.addRoutes(RunnableLambda.from(async function* (text: string) { yield* words(text); }), { path: 'words' }) }),
    ]);
  }, 20_000);
  afterAll(() => Promise.all([browser?.close(), gw?.close()]));

  async function openEcho(): Promise<Page> {
    const page = await browser.newPage();
    // Generous: the page used to redraw every chunk on every chunk, and 50,000 of them never finished.
    page.setDefaultTimeout(30_000);
    await page.goto(`${gw.url}/words/playground`);
    await page.waitForSelector('#field-input');
    return page;
  }

  it('streams 50,000 chunks without redrawing all of them per chunk', async () => {
    const page = await openEcho();
    const words = 'w '.repeat(50_000).trimEnd();
    await page.fill('#field-input', JSON.stringify(words));
    await page.click('#stream');
    await page.waitForFunction(() => /^done \(\d+ chunks\)$/.test(document.getElementById('status')?.textContent ?? ''));
    expect(await page.evaluate(() => document.getElementById('status')?.textContent)).toBe('done (50000 chunks)');
    expect(await page.evaluate(() => document.getElementById('output')?.textContent)).toBe(words);
    await page.close();
  });

  it('shows a huge output cut short, saying how much is not shown', async () => {
    const page = await openEcho();
    await page.fill('#field-input', JSON.stringify('x'.repeat(300_000)));
    await page.click('#invoke');
    await page.waitForFunction(() => /more characters not shown/.test(document.getElementById('output')?.textContent ?? ''));
    const shown = await page.evaluate(() => document.getElementById('output')?.textContent ?? '');
    expect(shown).toBe(`${'x'.repeat(200_000)}\n… (100000 more characters not shown)`);
    await page.close();
  });
});

describe('bounds, unit by unit', () => {
  const bounds = { maxDepth: 5, maxItems: 3 };
  const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);

  it('checkInputBounds: the body object is level 1; exactly at the limits passes, one past fails', () => {
    expect(() => checkInputBounds({ input: nest(4) }, bounds)).not.toThrow();
    expect(() => checkInputBounds({ input: nest(5) }, bounds)).toThrow('body.input.0.0.0.0: nested deeper than MAX_INPUT_DEPTH (5) levels');
    expect(() => checkInputBounds({ a: [1, 2, 3], b: { x: 1, y: 2, z: 3 } }, bounds)).not.toThrow();
    expect(() => checkInputBounds({ a: [1, 2, 3, 4] }, bounds)).toThrow('body.a: 4 entries, more than MAX_INPUT_ITEMS (3)');
    expect(() => checkInputBounds({ a: { w: 0, x: 1, y: 2, z: 3 } }, bounds)).toThrow('body.a: 4 entries');
    expect(() => checkInputBounds('scalar', bounds)).not.toThrow();
    expect(() => checkInputBounds(null, bounds)).not.toThrow();
  });

  it('checkInputBounds: long paths and keys are shortened in the message', () => {
    const key = 'k'.repeat(1_000);
    let value: unknown = 1;
    for (let i = 0; i < 200; i++) value = { [key]: value };
    let message = '';
    try {
      checkInputBounds(value, { maxDepth: 100, maxItems: 10 });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^body\.k{40}….*…\(\d+ more\)….*MAX_INPUT_DEPTH \(100\)/);
    expect(message.length).toBeLessThan(600);
  });

  it('serverTimeouts: a header timeout longer than the body timeout is capped to it (node would refuse it)', () => {
    const opts = serverTimeouts({ headersTimeoutMs: 20_000, bodyTimeoutMs: 5_000, keepAliveTimeoutMs: 0.5, maxConnections: 1 });
    expect(opts).toMatchObject({ headersTimeout: 5_000, requestTimeout: 5_000, keepAliveTimeout: 1, connectionsCheckingInterval: 1_000 });
    expect(() => createServer(opts).close()).not.toThrow();
  });
});

describe('smaller bounds found in review', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(() => gw?.close());

  it('a config hash that inflates past MAX_BODY_SIZE is 413, not parsed', async () => {
    const hash = encodeConfigHash({ configurable: { pad: 'a'.repeat(2_000_000) } });
    expect(hash.length).toBeLessThan(4_096);
    const res = await fetch(`${gw.url}/echo/c/${hash}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' });
    expect(res.status).toBe(413);
    expect((await res.json()).detail).toBe('config hash: decodes to more than the 1048576 characters of JSON accepted (MAX_BODY_SIZE)');
  });

  it('a refused CORS preflight says why', async () => {
    const res = await fetch(`${gw.url}/echo/invoke`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(403);
    expect((await res.json()).detail).toBe('Origin https://evil.example is not allowed: add it to CORS_ORIGINS');
  });
});
