import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Secret } from '@runnel/config';
import type { Logger } from '@runnel/telemetry';
import { batch } from '../endpoints/batch';
import { invoke } from '../endpoints/invoke';
import { playground } from '../endpoints/playground';
import { schema } from '../endpoints/schemas';
import { stream } from '../endpoints/stream';
import { streamEvents } from '../endpoints/stream-events';
import { streamLog } from '../endpoints/stream-log';
import type { GatewayMetrics } from '../gateway-metrics';
import { HttpError } from '../protocol/http-error';
import { DOCS_PATH, OPENAPI_PATH, serveOpenApi } from '../openapi/openapi-routes';
import { prefetchJsonBody } from '../protocol/request-body';
import { checkInputBounds, DEFAULT_INPUT_BOUNDS, type InputBounds, MAX_CONFIG_HASH_CHARS, setInputBounds } from '../protocol/input-bounds';
import { decodeConfigHash } from '../protocol/run-config';
import { Pinger } from '../protocol/sse-stream';
import { type Endpoint, isEndpoint } from '../registry/endpoint';
import type { RunnableRegistry } from '../registry/runnable-registry';
import { ClientDisconnectedError, RequestTimeoutError, ShutdownAbortError } from './abort-reasons';
import { ApiKeyAuth } from './api-key-auth';
import { ConnectionGuard, type ConnectionLimits, DEFAULT_CONNECTION_LIMITS, serverTimeouts } from './connection-guard';
import { CorsPolicy } from './cors-policy';
import { type RequestContext, sendJson, setRequestId } from './request-context';

export interface GatewayServerOptions {
  registry: RunnableRegistry;
  logger: Logger;
  metrics: GatewayMetrics;
  apiKeys?: Secret<string[]>;
  corsOrigins: string[];
  maxConcurrentRequests: number;
  requestTimeoutMs: number;
  bodyLimit: number;
  pingIntervalMs: number;
  /** MAX_INPUT_DEPTH, MAX_INPUT_ITEMS: checked on every parsed body and config hash. */
  inputBounds?: InputBounds;
  /** HEADERS_TIMEOUT, BODY_TIMEOUT, KEEP_ALIVE_TIMEOUT, MAX_CONNECTIONS. */
  connectionLimits?: ConnectionLimits;
  /** Liveness and readiness, served on the traffic port too so probes can use it. */
  health: (req: IncomingMessage, res: ServerResponse) => void;
  ready: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}

type Handler = (ctx: RequestContext) => Promise<void>;

const HANDLERS: Record<Exclude<Endpoint, 'config_hashes'>, { method: 'GET' | 'POST'; run: Handler }> = {
  invoke: { method: 'POST', run: invoke },
  batch: { method: 'POST', run: batch },
  stream: { method: 'POST', run: stream },
  stream_log: { method: 'POST', run: streamLog },
  stream_events: { method: 'POST', run: streamEvents },
  input_schema: { method: 'GET', run: schema },
  output_schema: { method: 'GET', run: schema },
  config_schema: { method: 'GET', run: schema },
  playground: { method: 'GET', run: playground },
};

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The gateway's HTTP front: routing, auth, CORS, admission (concurrency cap, draining), per-request
 * abort (disconnect, timeout), metrics, and turning errors into responses. Built on node:http
 * directly: the route set is fixed and small, and a framework's router and middleware chain were
 * the largest cost per request (see docs/benchmarks.md).
 */
export class GatewayServer {
  readonly server: Server;
  readonly #opts: GatewayServerOptions;
  readonly #auth: ApiKeyAuth;
  readonly #cors: CorsPolicy;
  readonly #pinger: Pinger;
  readonly #inputBounds: InputBounds;
  readonly #running = new Set<AbortController>();
  #inFlight = 0;
  #draining = false;
  #idle: (() => void) | undefined;

  constructor(opts: GatewayServerOptions) {
    this.#opts = opts;
    this.#auth = new ApiKeyAuth(opts.apiKeys);
    this.#cors = new CorsPolicy(opts.corsOrigins);
    this.#pinger = new Pinger(opts.pingIntervalMs);
    this.#inputBounds = opts.inputBounds ?? DEFAULT_INPUT_BOUNDS;
    const limits = opts.connectionLimits ?? DEFAULT_CONNECTION_LIMITS;
    this.server = createServer(serverTimeouts(limits), (req, res) => {
      this.#handle(req, res).catch((err) => {
        opts.logger.error({ err }, 'request handling failed');
        if (!res.headersSent) sendJson(res, 500, { detail: 'Internal Server Error' });
        else res.destroy();
      });
    });
    // Slow and idle clients: timeouts, a connection cap that closes the longest-idle first, JSON client errors.
    new ConnectionGuard(this.server, limits, (reason) => opts.metrics.rejected.labels(reason).inc());
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get authEnabled(): boolean {
    return this.#auth.enabled;
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /**
   * Stops taking new runs (503), lets the ones in flight finish until `graceMs`, then aborts what is
   * left and closes the listener. Resolves when every response has ended.
   */
  async drain(graceMs: number): Promise<void> {
    this.#draining = true;
    this.server.closeIdleConnections?.();
    if (this.#inFlight > 0) {
      const idle = new Promise<void>((resolve) => (this.#idle = resolve));
      const timer = setTimeout(() => {
        this.#opts.logger.warn({ inFlight: this.#inFlight }, 'drain grace period over; cancelling runs still in flight');
        for (const c of this.#running) c.abort(new ShutdownAbortError());
      }, graceMs);
      await idle;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    setRequestId(res, requestId);
    setInputBounds(req, this.#inputBounds);

    if (this.#cors.apply(req, res)) return;
    if (path === '/health') return this.#opts.health(req, res);
    if (path === '/ready') return void (await this.#opts.ready(req, res));
    if (path === '/' || path === '') {
      sendJson(res, 200, { service: 'runnel-gateway', runnables: this.#opts.registry.paths });
      return;
    }
    // OpenAPI document and docs page (apps/gateway/src/openapi): no API key, like the playground page.
    if (path === OPENAPI_PATH || path === DOCS_PATH) return serveOpenApi(req, res, path, this.#opts.registry, this.#auth.enabled);

    const segments = path.split('/');
    // segments[0] is '' (leading slash).
    const route = this.#opts.registry.get(decodeSafe(segments[1]));
    if (!route) return this.#reject(res, 404, `No runnable at ${JSON.stringify(segments[1])}; serving: ${this.#opts.registry.paths.join(', ')}`);
    let rest = 2;
    let hashConfig: Record<string, unknown> | undefined;
    let basePath = `/${route.path}`;
    if (segments[rest] === 'c') {
      if (!route.enabled.has('config_hashes')) return this.#reject(res, 404, 'Config hash routes are disabled for this runnable');
      const hash = segments[rest + 1];
      if (this.#auth.check(req) !== 'ok' && segments[rest + 2] !== 'playground') return this.#unauthorized(req, res);
      if (hash !== undefined && hash.length > MAX_CONFIG_HASH_CHARS) {
        return this.#reject(res, 414, `config hash: ${hash.length} characters, more than the ${MAX_CONFIG_HASH_CHARS} characters accepted`);
      }
      try {
        hashConfig = decodeConfigHash(hash ?? '');
        checkInputBounds(hashConfig, this.#inputBounds, 'config hash');
      } catch (err) {
        return this.#sendError(res, err, 'config_hashes', requestId);
      }
      basePath += `/c/${hash}`;
      rest += 2;
    }
    const name = segments[rest] ?? '';
    if (!isEndpoint(name) || name === 'config_hashes' || (name !== 'playground' && segments.length > rest + 1)) {
      return this.#reject(res, 404, `Unknown endpoint ${JSON.stringify(segments.slice(rest).join('/'))} for runnable "${route.path}"`);
    }
    if (!route.enabled.has(name)) return this.#reject(res, 404, `Endpoint "${name}" is disabled for runnable "${route.path}"`);
    const handler = HANDLERS[name];
    if (req.method !== handler.method && !(handler.method === 'GET' && req.method === 'HEAD')) {
      return this.#reject(res, 405, `Method ${req.method} not allowed on ${name}; use ${handler.method}`, { allow: handler.method });
    }
    // The playground page is static and holds no data; it asks for the API key and sends it on its calls.
    if (name !== 'playground') {
      const auth = this.#auth.check(req);
      if (auth !== 'ok') {
        this.#opts.metrics.errors.labels('auth', name).inc();
        this.#opts.metrics.countRequest(route.path, name, '401');
        return this.#unauthorized(req, res, auth);
      }
    }
    if (handler.method === 'POST') {
      // The body is read before admission: a client still sending it (for up to BODY_TIMEOUT) holds no run slot.
      await prefetchJsonBody(req, this.#opts.bodyLimit);
      if (res.headersSent || req.socket.destroyed) {
        // Answered meanwhile (408 at BODY_TIMEOUT) or the client left.
        this.#opts.metrics.countRequest(route.path, name, res.headersSent ? String(res.statusCode) : '499');
        return;
      }
    }
    if (this.#draining) {
      this.#opts.metrics.rejected.labels('draining').inc();
      return this.#reject(res, 503, 'Gateway is shutting down; retry on another instance', { 'retry-after': '1', connection: 'close' });
    }
    if (this.#inFlight >= this.#opts.maxConcurrentRequests) {
      this.#opts.metrics.rejected.labels('overload').inc();
      this.#opts.metrics.errors.labels('overload', name).inc();
      this.#opts.metrics.countRequest(route.path, name, '503');
      return this.#reject(res, 503, `Gateway at its limit of ${this.#opts.maxConcurrentRequests} concurrent requests; retry shortly`, {
        'retry-after': '1',
      });
    }
    await this.#run({ req, res, route, endpoint: name, hashConfig, requestId, basePath }, handler.run);
  }

  async #run(
    base: Pick<RequestContext, 'req' | 'res' | 'route' | 'endpoint' | 'hashConfig' | 'requestId' | 'basePath'>,
    handler: Handler,
  ): Promise<void> {
    const { res, route, endpoint, requestId } = base;
    const { metrics, logger } = this.#opts;
    const started = performance.now();
    const controller = new AbortController();
    this.#running.add(controller);
    this.#inFlight++;
    metrics.inFlight.inc();
    const timer = setTimeout(() => controller.abort(new RequestTimeoutError(this.#opts.requestTimeoutMs)), this.#opts.requestTimeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) controller.abort(new ClientDisconnectedError());
      this.#running.delete(controller);
      this.#inFlight--;
      metrics.inFlight.dec();
      const status = res.writableFinished ? String(res.statusCode) : '499';
      metrics.countRequest(route.path, endpoint, status);
      metrics.observeDuration(route.path, endpoint, (performance.now() - started) / 1000);
      if (this.#inFlight === 0) this.#idle?.();
    });
    const ctx: RequestContext = {
      ...base,
      signal: controller.signal,
      logger,
      metrics,
      pinger: this.#pinger,
      bodyLimit: this.#opts.bodyLimit,
      authRequired: this.#auth.enabled,
    };
    try {
      await handler(ctx);
    } catch (err) {
      this.#sendError(res, err, endpoint, requestId, controller.signal);
    }
  }

  #sendError(res: ServerResponse, err: unknown, endpoint: string, requestId: string, signal?: AbortSignal): void {
    const { metrics, logger } = this.#opts;
    const reason = signal?.aborted ? signal.reason : undefined;
    if (err instanceof HttpError) {
      metrics.errors.labels(err.status === 413 || err.status === 422 || err.status === 400 ? 'validation' : 'client', endpoint).inc();
      const detail = err.detail;
      sendJson(res, err.status, { detail, message: typeof detail === 'string' ? detail : undefined }, err.headers);
      return;
    }
    if (reason instanceof ClientDisconnectedError) {
      metrics.errors.labels('cancelled', endpoint).inc();
      logger.info({ requestId, endpoint }, 'client disconnected; run cancelled');
      return;
    }
    if (reason instanceof RequestTimeoutError) {
      metrics.errors.labels('timeout', endpoint).inc();
      sendJson(res, 504, { detail: reason.message, message: reason.message, request_id: requestId });
      return;
    }
    if (reason instanceof ShutdownAbortError) {
      metrics.errors.labels('cancelled', endpoint).inc();
      sendJson(res, 503, { detail: reason.message, message: reason.message, request_id: requestId }, { 'retry-after': '1' });
      return;
    }
    metrics.errors.labels('runnable', endpoint).inc();
    logger.error({ err, requestId, endpoint }, 'run failed');
    sendJson(res, 500, { detail: 'Internal Server Error', message: 'Internal Server Error', request_id: requestId });
  }

  #reject(res: ServerResponse, status: number, detail: string, headers: Record<string, string> = {}): void {
    sendJson(res, status, { detail, message: detail }, headers);
  }

  #unauthorized(_req: IncomingMessage, res: ServerResponse, why: 'missing' | 'invalid' = 'missing'): void {
    const detail =
      why === 'missing'
        ? 'Missing API key: send Authorization: Bearer <key> or X-API-Key: <key>'
        : 'Invalid API key';
    this.#reject(res, 401, detail, { 'www-authenticate': 'Bearer' });
  }
}

function decodeSafe(segment: string | undefined): string {
  if (!segment) return '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
