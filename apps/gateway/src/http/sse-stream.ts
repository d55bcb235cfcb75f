import type { ServerResponse } from 'node:http';
import { headerList } from './response-writer';

const CRLF = '\r\n';

/**
 * Server-sent events in LangServe's exact bytes: `event: X\r\ndata: Y\r\n\r\n`, `end` with no data
 * line (the JS client's parser would turn `data: {}` into one more chunk), `: ping` comments from
 * the shared Pinger.
 */
export class SseStream {
  #open = true;

  constructor(private readonly res: ServerResponse) {}

  get open(): boolean {
    return this.#open && !this.res.destroyed;
  }

  /**
   * `flush`: send the headers now. Leave it off only when a frame is written right after: Node then
   * sends headers and frame in one write (a separate header write cost a syscall per stream).
   */
  start(flush = true): void {
    this.res.writeHead(
      200,
      headerList(this.res, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        // nginx and friends would otherwise buffer the whole stream.
        'x-accel-buffering': 'no',
      }),
    );
    if (flush) this.res.flushHeaders();
  }

  /** Writes one event; resolves when the socket can take more, so a slow client slows the run instead of growing memory. */
  send(event: string, data?: string, id?: string): Promise<void> | undefined {
    if (!this.open) return undefined;
    // `id:` (the agent API's resumable streams) goes last, so the common frame stays one template.
    const tail = id === undefined ? CRLF : `id: ${id}${CRLF}${CRLF}`;
    const frame = data === undefined ? `event: ${event}${CRLF}${CRLF}` : `event: ${event}${CRLF}data: ${data}${CRLF}${tail}`;
    if (this.res.write(frame)) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  ping(): void {
    if (this.open) this.res.write(`: ping${CRLF}${CRLF}`);
  }

  /** Ends the response; with `event`, its frame (no data line) is the last bytes, written with the end in one call. */
  end(event?: string): void {
    if (!this.#open) return;
    this.#open = false;
    if (event !== undefined && !this.res.destroyed) this.res.end(`event: ${event}${CRLF}${CRLF}`);
    else this.res.end();
  }
}
