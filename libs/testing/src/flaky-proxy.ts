import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FlakyProxyOptions {
  /**
   * Answer a PUT carrying `If-None-Match: *` with 412 PreconditionFailed when the key exists, as
   * AWS S3 and MinIO do. s3rver ignores the header; with this the conditional-write path of the
   * object store meets S3's answer, the object itself still stored by the real server.
   */
  conditionalWrites?: boolean;
}

/**
 * An HTTP proxy in front of a real server (s3rver) that can answer with errors for a while: the
 * "S3 returns 500/503" window of failure tests, with S3's XML error body so SDKs parse it.
 */
export class FlakyProxy {
  #failUntil = 0;
  #failCount = 0;
  #status = 503;
  failed = 0;
  forwarded = 0;
  /** PUTs refused with 412 because the key existed (conditionalWrites). */
  preconditionFailed = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(target: string, options: FlakyProxyOptions = {}): Promise<FlakyProxy> {
    const t = new URL(target);
    // The handler needs the instance, which needs the listening server: a holder breaks the cycle.
    const holder: { proxy?: FlakyProxy } = {};
    const server = createServer((req, res) => {
      const proxy = holder.proxy!;
      if (proxy.#shouldFail()) {
        proxy.failed++;
        req.resume();
        const code = proxy.#status === 503 ? 'SlowDown' : 'InternalError';
        res.writeHead(proxy.#status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected failure</Message></Error>`);
        return;
      }
      if (options.conditionalWrites && req.method === 'PUT' && req.headers['if-none-match'] === '*' && !/[?&](partNumber|uploadId)=/.test(req.url ?? '')) {
        // The key's existence, asked of the real server (s3rver answers unsigned HEADs).
        const head = request({ host: t.hostname, port: t.port, method: 'HEAD', path: (req.url ?? '/').split('?')[0] }, (h) => {
          h.resume();
          if (h.statusCode === 200) {
            proxy.preconditionFailed++;
            req.resume();
            res.writeHead(412, { 'content-type': 'application/xml' });
            res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>');
          } else forward();
        });
        head.on('error', () => res.destroy());
        head.end();
        return;
      }
      forward();
      function forward() {
        proxy.forwarded++;
        const upstream = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    holder.proxy = new FlakyProxy(server, (server.address() as AddressInfo).port);
    return holder.proxy;
  }

  /** Fails every request for the next `ms` milliseconds. */
  failFor(ms: number, status = 503): void {
    this.#failUntil = Date.now() + ms;
    this.#status = status;
  }

  /** Fails the next `n` requests. */
  failNext(n: number, status = 503): void {
    this.#failCount = n;
    this.#status = status;
  }

  #shouldFail(): boolean {
    if (this.#failCount > 0) {
      this.#failCount--;
      return true;
    }
    return Date.now() < this.#failUntil;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
