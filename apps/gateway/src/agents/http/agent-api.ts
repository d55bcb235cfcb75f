import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@runnel/telemetry';
import type { Identity } from '../../caller/identity';
import { errorBody, errorResponse } from '../../http/error-response';
import { requestIdOf, sendJson } from '../../http/response-writer';
import { ClientDisconnectedError } from '../../http/abort-reasons';
import { Pinger } from '../../http/sse-pinger';
import { HttpError } from '../../protocol/http-error';
import type { InputBounds } from '../../protocol/input-bounds';
import { readJsonBody } from '../../protocol/request-body';
import { serializeError } from '../execution/serialize-event';
import { StorageError } from '../storage/storage-errors';
import { type AgentReply, writeReply } from './agent-reply';
import { AGENT_PATH_ROOTS, type AgentRouteName, matchAgentRoute } from './agent-routes';

/** What a route handler gets of one request. */
export interface AgentRequest {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body (`{}` when there is none); a 413/422 when too big or not JSON. */
  body(): Promise<unknown>;
  /** Aborts when the client disconnects before the answer is complete. */
  readonly signal: AbortSignal;
  readonly identity: Identity | undefined;
  readonly requestId: string;
  readonly logger: Logger;
}

export type AgentRouteHandler = (r: AgentRequest) => Promise<AgentReply>;
export type AgentRouteHandlers = Readonly<Partial<Record<AgentRouteName, AgentRouteHandler>>>;

export interface AgentApiOptions {
  handlers: AgentRouteHandlers;
  logger: Logger;
  bodyLimit: number;
  /**
   * Who is calling: resolves the caller's identity or throws the 401/403/429 HttpError (the
   * gateway's authenticate → authorize → rate-limit, with the route's scope). Absent: auth off.
   */
  admit?: (req: IncomingMessage, res: ServerResponse, route: AgentRouteName) => Promise<Identity | undefined>;
  /** Refuses new work while draining (503). */
  draining?: () => boolean;
  /** Every answered request: route name, status (499 when the client left), seconds. */
  onAnswered?: (route: AgentRouteName, status: number, seconds: number) => void;
  /** STREAM_PING_INTERVAL: keep-alives of open streams and of slow JSON answers. */
  pingIntervalMs: number;
  /** MAX_INPUT_DEPTH / MAX_INPUT_ITEMS, as the runnable routes check them. */
  inputBounds: InputBounds;
}

/**
 * The LangGraph Platform API as one `(req, res)` handler beside the runnable routes: route (pure
 * table) → caller checks → the route's handler → its reply written. Every failure is answered by
 * one map: HttpError and the repositories' typed errors carry their status and `detail`; anything
 * else is a logged 500 that reveals nothing.
 */
export class AgentApi {
  readonly #pinger: Pinger;

  constructor(private readonly opts: AgentApiOptions) {
    this.#pinger = new Pinger(opts.pingIntervalMs);
  }

  /**
   * Whether this path (below BASE_PATH, no query) is the agent API's: its first segment is one of
   * the API's roots (reserved for it: no runnable may take them). Asked of every gateway request,
   * so a set lookup, not the route table; a path under a root that matches no route is its 404.
   */
  owns(path: string): boolean {
    const end = path.indexOf('/', 1);
    return AGENT_PATH_ROOTS.has(end === -1 ? path.slice(1) : path.slice(1, end));
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    const started = performance.now();
    // The gateway handler set it (its one rule for a client's X-Request-Id).
    const requestId = requestIdOf(res) ?? '';
    const match = matchAgentRoute(req.method ?? 'GET', path);
    if (match.kind === 'none') return this.#fail(res, new HttpError(404, `Not found: ${path}`), requestId);
    if (match.kind === 'method') return this.#fail(res, new HttpError(405, `Method ${req.method} not allowed on ${path}`, { allow: match.allow.join(', ') }), requestId);
    const handler = this.opts.handlers[match.name];
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new ClientDisconnectedError());
      this.opts.onAnswered?.(match.name, res.writableFinished ? res.statusCode : 499, (performance.now() - started) / 1000);
    });
    try {
      if (!handler) throw new HttpError(501, `${match.name} is not implemented`);
      if (this.opts.draining?.() && match.name !== 'ok' && match.name !== 'info') throw new HttpError(503, 'The server is shutting down', { 'retry-after': '1' });
      // `/ok` answers load balancers and probes without credentials, as a health check does.
      const identity = this.opts.admit && match.name !== 'ok' ? await this.opts.admit(req, res, match.name) : undefined;
      const logger = this.opts.logger;
      let bodyPromise: Promise<unknown> | undefined;
      const request: AgentRequest = {
        req,
        params: match.params,
        query: new URLSearchParams(query),
        body: () => (bodyPromise ??= readBody(req, this.opts.bodyLimit, this.opts.inputBounds)),
        signal: controller.signal,
        identity,
        requestId,
        logger,
      };
      const reply = await handler(request);
      await writeReply(res, reply, this.#pinger, (err) => {
        if (controller.signal.aborted) return undefined; // the client left: nobody to tell
        this.#log(err, requestId, match.name);
        return { event: 'error', data: JSON.stringify(serializeError(err)) };
      });
    } catch (err) {
      this.#fail(res, err, requestId, match.name, controller.signal);
    }
  }

  #fail(res: ServerResponse, err: unknown, requestId: string, route?: string, signal?: AbortSignal): void {
    const unavailable = dependencyUnavailable(err);
    const http =
      err instanceof StorageError
        ? new HttpError(err.status, err.message)
        : unavailable
          ? new HttpError(503, `The agent API's ${unavailable} is unavailable; retry shortly`, { 'retry-after': '2' })
          : err;
    // With the request's signal: a failure because the client left is a 499, not a logged 500.
    const answer = errorResponse(http, signal);
    if (answer.status === 499) return;
    if (unavailable) this.opts.logger.warn({ requestId, route, dependency: unavailable, error: (err as Error).message }, 'agent API dependency unavailable');
    else if (answer.unexpected) this.#log(err, requestId, route);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, answer.status, errorBody(answer, requestId), answer.headers);
  }

  #log(err: unknown, requestId: string, route?: string): void {
    this.opts.logger.error({ err, requestId, route }, 'agent API request failed');
  }
}

/** A JSON body or `{}` for an empty one (the SDK sends no body for some POSTs). */
async function readBody(req: IncomingMessage, limit: number, bounds: InputBounds): Promise<unknown> {
  const length = req.headers['content-length'];
  if (length === '0' || (length === undefined && !req.headers['transfer-encoding'])) return {};
  return readJsonBody(req, limit, bounds);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);

/**
 * Which backing service a failure says is away: 'Redis' (ioredis gave up on a command, or the
 * connection is closed), 'PostgreSQL' (pg could not connect, or the server is shutting down:
 * SQLSTATE 57P01/57P03, class 08), or undefined for anything else (a bug: 500).
 */
export function dependencyUnavailable(err: unknown): 'Redis' | 'PostgreSQL' | undefined {
  // Duck-typed, not instanceof: errors made by Node's own sockets may come from another realm (jest's VM).
  if (typeof err !== 'object' || err === null || typeof (err as { message?: unknown }).message !== 'string') return undefined;
  const e = err as Error & { code?: unknown; errors?: unknown[] };
  if (e.name === 'MaxRetriesPerRequestError' || /^Connection is closed|Command timed out|Stream isn't writeable/.test(e.message)) return 'Redis';
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === '57P01' || code === '57P03' || code.startsWith('08') || /Connection terminated|timeout exceeded when trying to connect/.test(e.message)) return 'PostgreSQL';
  if (NETWORK_CODES.has(code) || (Array.isArray(e.errors) && e.errors.some((x) => NETWORK_CODES.has(String((x as { code?: unknown }).code))))) return 'PostgreSQL';
  return undefined;
}
