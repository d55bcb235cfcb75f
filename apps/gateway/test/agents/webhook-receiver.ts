import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  url: string;
  body: Record<string, unknown>;
  at: number;
}

/** A local webhook receiver: records every POST; `answer` decides each status (200 by default). */
export class Receiver {
  readonly received: Received[] = [];
  answer: (n: number, path: string) => number = () => 200;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d));
      req.on('end', () => {
        receiver.received.push({ url: req.url ?? '', body: JSON.parse(text), at: Date.now() });
        const path = (req.url ?? '').split('?')[0];
        res.writeHead(receiver.answer(receiver.received.filter((r) => r.url.split('?')[0] === path).length, path)).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.url.split('?')[0] === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
