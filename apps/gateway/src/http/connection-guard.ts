import { type IncomingMessage, type Server, type ServerOptions, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { sendJson } from './response-writer';

/**
 * Bounds on what slow or idle clients can hold (HEADERS_TIMEOUT, BODY_TIMEOUT, KEEP_ALIVE_TIMEOUT,
 * MAX_CONNECTIONS). node:http on its own leaves a request's body unbounded in time, checks its
 * header timeout only every 30 s, and keeps every socket it accepts.
 */
export interface ConnectionLimits {
  /** Milliseconds from a request's first byte to the end of its headers. */
  headersTimeoutMs: number;
  /** Milliseconds from a request's first byte to the end of its body. */
  bodyTimeoutMs: number;
  /** Milliseconds an idle keep-alive connection stays open after a response. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; past it the longest-idle one is closed, or the new one refused if none is idle. */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 5_000,
};

/** createServer options for the limits. node checks both request timeouts each `connectionsCheckingInterval`. */
export function serverTimeouts(limits: ConnectionLimits): ServerOptions {
  const requestTimeout = Math.max(1, Math.ceil(limits.bodyTimeoutMs));
  // node refuses a header timeout longer than the request timeout; the body's bound covers the headers too.
  const headersTimeout = Math.min(requestTimeout, Math.max(1, Math.ceil(limits.headersTimeoutMs)));
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: Math.max(1, Math.ceil(limits.keepAliveTimeoutMs)),
    connectionsCheckingInterval: Math.min(1_000, Math.max(25, Math.floor(headersTimeout / 4))),
  };
}


/** What the guard keeps on each socket it tracks: properties, not Map entries (see ConnectionGuard). */
const CURRENT = Symbol('runnel.currentResponse');
const IDLE_SINCE = Symbol('runnel.idleSince');
type TrackedSocket = Duplex & { [CURRENT]?: ServerResponse; [IDLE_SINCE]?: number };

/**
 * Tracks the server's sockets: which are idle (no request in progress: just connected, sending
 * headers, or kept alive after a response) and which are serving a request. Past MAX_CONNECTIONS
 * the longest-idle socket is closed to make room, so thousands of idle sockets cannot lock out a
 * new client; only when every socket is busy is the new one refused (503). Also answers node's
 * client errors (timeouts, malformed HTTP, oversized headers) with JSON `detail`, as every other
 * 4xx, instead of node's bare status line.
 *
 * A socket's state (its response in progress, and when it last went idle) is kept on the socket:
 * per request only two properties change. Idle and busy Maps gaining and losing an entry per
 * request reallocated their hash tables as their sizes moved, and those tables, hanging off
 * long-lived Maps, were promoted to the old generation: most of what the gateway promoted under
 * load (docs/benchmarks.md, issue 9). The longest-idle socket is found by a scan of the open
 * sockets, done only when a connection arrives past MAX_CONNECTIONS.
 */
export class ConnectionGuard {
  /** Every open socket; changes per connection, not per request. */
  readonly #sockets = new Set<TrackedSocket>();
  /** Orders idle times: a counter rather than a clock, so two sockets never tie. */
  #idleSeq = 0;

  constructor(
    server: Server,
    private readonly limits: ConnectionLimits,
    private readonly onRefused: (reason: 'connections' | 'slow_client') => void,
  ) {
    server.on('connection', (socket: Socket) => this.#connected(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#requestStarted(req, res));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.#clientError(err, socket));
  }

  get openConnections(): number {
    return this.#sockets.size;
  }

  #connected(socket: TrackedSocket & Socket): void {
    socket[CURRENT] = undefined;
    socket[IDLE_SINCE] = ++this.#idleSeq;
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      socket[CURRENT] = undefined;
    });
    if (this.#sockets.size <= this.limits.maxConnections) return;
    const oldest = this.#longestIdle(socket);
    if (oldest !== undefined) {
      oldest.destroy();
      return;
    }
    this.onRefused('connections');
    writeRaw(socket, 503, `Gateway at its limit of ${this.limits.maxConnections} open connections (MAX_CONNECTIONS), all busy; retry shortly`, {
      'retry-after': '1',
    });
  }

  /** The open socket idle the longest, other than `except` (the one just accepted); undefined when all are busy. */
  #longestIdle(except: TrackedSocket): TrackedSocket | undefined {
    let oldest: TrackedSocket | undefined;
    for (const socket of this.#sockets) {
      if (socket === except || socket[CURRENT] !== undefined || socket.destroyed) continue;
      if (oldest === undefined || socket[IDLE_SINCE]! < oldest[IDLE_SINCE]!) oldest = socket;
    }
    return oldest;
  }

  #requestStarted(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as TrackedSocket;
    socket[CURRENT] = res;
    // `on`, not `once`: a response emits 'close' once (node guards it), and once() wraps every listener.
    res.on('close', () => {
      if (socket[CURRENT] !== res) return;
      socket[CURRENT] = undefined;
      socket[IDLE_SINCE] = ++this.#idleSeq;
    });
  }

  #clientError(err: NodeJS.ErrnoException, socket: TrackedSocket): void {
    const res = socket[CURRENT];
    // The client left (reset, or closed its side before the request was whole): nobody to answer.
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
      socket.destroy();
      return;
    }
    let status: number;
    let detail: string;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      this.onRefused('slow_client');
      status = 408;
      detail = res
        ? `Request body not received within BODY_TIMEOUT (${this.limits.bodyTimeoutMs / 1000} s)`
        : `Request headers not received within HEADERS_TIMEOUT (${Math.min(this.limits.headersTimeoutMs, this.limits.bodyTimeoutMs) / 1000} s)`;
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      detail = 'Request headers too large';
    } else if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') {
      status = 413;
      detail = 'Chunk extensions too large';
    } else {
      status = 400;
      detail = `Malformed HTTP request${err.code ? ` (${err.code})` : ''}`;
    }
    if (res && !res.headersSent) {
      // The handler is still reading the body: answer through its response, so the request id and
      // metrics see it, then close (the rest of the body is never coming).
      sendJson(res, status, { detail, message: detail }, { connection: 'close' });
      // node counts the request done once its response is: destroy it with the error, so whoever reads
      // the body hears of it, and the socket with it.
      const close = () => {
        res.req.destroy(err);
        socket.destroy();
      };
      res.once('finish', close);
      setTimeout(close, 1_000).unref();
      return;
    }
    if (res) {
      socket.destroy();
      return;
    }
    writeRaw(socket, status, detail);
  }
}

/** A whole JSON response written straight to the socket, which is then closed (node's own client-error path does the same). */
function writeRaw(socket: Duplex, status: number, detail: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ detail, message: detail });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
