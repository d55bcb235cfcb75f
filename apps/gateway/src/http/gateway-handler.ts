import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@runnel/telemetry';
import { setIdentity } from '../caller/identity';
import type { GatewayMetrics } from '../gateway-metrics';
import { HttpError } from '../protocol/http-error';
import { type InputBounds, DEFAULT_INPUT_BOUNDS } from '../protocol/input-bounds';
import { Pinger } from './sse-pinger';
import { ClientDisconnectedError } from './abort-reasons';
import { Admission } from './admission';
import { CorsPolicy } from './cors-policy';
import type { EndpointHandler, EndpointTable } from './endpoint-handler';
import { errorBody, errorResponse, type ErrorResponse } from './error-response';
import type { Guard, GuardContext } from './guard';
import { capacityGuard, drainGuard } from './guards/admission-guards';
import { bodyGuard } from './guards/body-guard';
import { configHashGuard } from './guards/config-hash-guard';
import { methodGuard } from './guards/method-guard';
import { RequestAnsweredSignal } from './request-answered';
import type { RequestContext } from './request-context';
import type { Identity } from '../caller/identity';
import type { Endpoint } from '../registry/endpoint';
import type { ResolvedRoute } from '../registry/resolved-route';
import { requestIdOf, sendJson, setRequestId } from './response-writer';
import { parseRoute, type RouteTable, type ServicePage } from './route-parser';

/** A gateway page that is not a runnable's: the index, /openapi.json, /docs. */
export type PageHandler = (req: IncomingMessage, res: ServerResponse, basePath: string) => void | Promise<void>;

export interface GatewayHandlerOptions {
  routes: RouteTable;
  /** What serves each endpoint under a runnable's path (endpoints/route-table.ts). */
  endpoints: EndpointTable;
  /** The gateway's own pages; those left out are not served (embedded in another app: its own `/` stays its own). */
  pages?: Readonly<Partial<Record<ServicePage, PageHandler>>>;
  /** Liveness and readiness, answered at `/health` and `/ready` (at the root, whatever BASE_PATH is); not served when left out. */
  health?: (req: IncomingMessage, res: ServerResponse) => void;
  ready?: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
  logger: Logger;
  metrics: GatewayMetrics;
  corsOrigins: string[];
  /**
   * Who may call, in order (authenticate, authorize, rate limit): run for every endpoint but the
   * public ones (the playground page), after the method check and before anything is decoded or read.
   */
  callerGuards: Guard[];
  /** Whether callers need credentials: the playground page then asks for a key. */
  authRequired: boolean;
  /** Normalized BASE_PATH (`/api` or ''); see normalizeBasePath. */
  basePath: string;
  maxConcurrentRequests: number;
  requestTimeoutMs: number;
  bodyLimit: number;
  pingIntervalMs: number;
  inputBounds?: InputBounds;
  /**
   * Another API served beside the runnables (the LangGraph Platform API, agents/http/agent-api.ts):
   * the paths it owns (below BASE_PATH) go to it, with its own guards, before runnable routing.
   */
  beside?: { owns(path: string): boolean; handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> };
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The gateway's request pipeline as one `(req, res)` handler, usable under node:http (GatewayServer),
 * an Express app (addRoutes) or any framework that hands over Node's request and response:
 * request id → CORS → route (pure, route-parser.ts) → guards in order → the endpoint's run, with
 * abort on disconnect or REQUEST_TIMEOUT, metrics, and every failure answered by errorResponse.
 */
export class GatewayHandler {
  readonly admission: Admission;
  readonly #opts: GatewayHandlerOptions;
  readonly #cors: CorsPolicy;
  readonly #pinger: Pinger;
  readonly #inputBounds: InputBounds;
  /** Guards of every runnable endpoint, and of the public ones (no caller guards). */
  readonly #guards: Guard[];
  readonly #publicGuards: Guard[];

  constructor(opts: GatewayHandlerOptions) {
    this.#opts = opts;
    this.#cors = new CorsPolicy(opts.corsOrigins);
    this.#pinger = new Pinger(opts.pingIntervalMs);
    this.#inputBounds = opts.inputBounds ?? DEFAULT_INPUT_BOUNDS;
    this.admission = new Admission(opts.maxConcurrentRequests, opts.requestTimeoutMs);
    // runnel_gateway_in_flight and runnel_gateway_open_streams are read from these at each scrape.
    opts.metrics.addInFlightSource(() => this.admission.inFlight);
    opts.metrics.addOpenStreamsSource(() => this.#pinger.size);
    const method = methodGuard((ctx) => opts.endpoints[ctx.endpoint as keyof EndpointTable].method);
    const after = [
      configHashGuard(this.#inputBounds, opts.bodyLimit),
      bodyGuard(opts.bodyLimit, this.#inputBounds),
      drainGuard(this.admission, opts.metrics),
      capacityGuard(this.admission, opts.metrics),
    ];
    this.#guards = [method, ...opts.callerGuards, ...after];
    this.#publicGuards = [method, ...after];
  }

  /**
   * For `http.createServer(handler.listener)`, and as connect/Express middleware: a request for
   * something the gateway does not serve goes to `next` when there is one (404 otherwise). Never
   * rejects; answers 500 on a bug.
   */
  readonly listener = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    this.handle(req, res, next).catch((err) => {
      this.#opts.logger.error({ err }, 'request handling failed');
      if (!res.headersSent) sendJson(res, 500, errorBody(errorResponse(err), requestIdOf(res) ?? ''));
      else res.destroy();
    });
  };

  async handle(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const beside = this.#opts.beside;
    if (beside) {
      const base = this.#opts.basePath;
      const below = base === '' ? path : path.startsWith(base + '/') ? path.slice(base.length) : undefined;
      if (below !== undefined && beside.owns(below)) {
        setRequestId(res, requestId);
        if (this.#cors.apply(req, res)) return;
        return beside.handle(req, res, below, q === -1 ? '' : url.slice(q + 1));
      }
    }
    const match = parseRoute(path, this.#opts.routes, this.#opts.basePath);
    const probe = match.kind === 'probe' ? this.#opts[match.probe] : undefined;
    const page = match.kind === 'service' ? this.#opts.pages?.[match.page] : undefined;
    if (next && !probe && !page && (match.kind !== 'runnable' && !(match.kind === 'miss' && match.route))) return next();
    setRequestId(res, requestId);
    if (this.#cors.apply(req, res)) return;

    // Express strips the prefix an app was mounted at from req.url and keeps it in req.baseUrl.
    const mount = (req as { baseUrl?: unknown }).baseUrl;
    const prefix = typeof mount === 'string' ? mount : '';
    if (probe) return void (await probe(req, res));
    if (page) return void (await page(req, res, prefix + this.#opts.basePath));
    if (match.kind !== 'runnable') {
      const status = match.kind === 'miss' ? match.status : 404;
      const detail = match.kind === 'miss' ? match.detail : `Not found: ${path}`;
      return this.#answerError(res, errorResponse(new HttpError(status, detail)), requestId);
    }

    const { route, endpoint } = match;
    const handler = this.#opts.endpoints[endpoint];
    const ctx = new RunState(req, res, requestId, route, endpoint, match.configHash, this.#opts, this.#pinger);
    try {
      // Most guards answer synchronously: awaiting only real promises saves a microtask turn per guard.
      for (const guard of handler.public ? this.#publicGuards : this.#guards) {
        const pending = guard.check(ctx);
        if (pending) await pending;
      }
      // One source of truth for who called: what the guards decided is what the modifier and metadata read.
      if (ctx.identity) setIdentity(req, ctx.identity);
    } catch (err) {
      if (err instanceof RequestAnsweredSignal) {
        this.#opts.metrics.countRequest(route.path, endpoint, res.headersSent ? String(res.statusCode) : '499');
        return;
      }
      const answer = errorResponse(err);
      if (answer.unexpected) this.#opts.logger.error({ err, requestId, endpoint }, 'guard failed');
      this.#opts.metrics.errors.labels(answer.errorType, endpoint).inc();
      this.#opts.metrics.countRequest(route.path, endpoint, String(answer.status));
      return this.#answerError(res, answer, requestId);
    }
    await this.#run(ctx, handler, prefix + match.addressedPath);
  }

  async #run(ctx: RunState, handler: EndpointHandler, basePath: string): Promise<void> {
    const { res, route, endpoint, requestId } = ctx;
    const { metrics, logger } = this.#opts;
    const started = performance.now();
    const controller = new AbortController();
    // Also starts its REQUEST_TIMEOUT (one timer for all runs).
    const ticket = this.admission.enter(controller, started);
    // `on`, not `once`: a response emits 'close' once (node guards it), and once() wraps every listener.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new ClientDisconnectedError());
      this.admission.leave(ticket);
      metrics.finishRequest(route.path, endpoint, res.writableFinished ? String(res.statusCode) : '499', (performance.now() - started) / 1000);
    });
    // The guards' context becomes the endpoint's (RequestContext): one object per request, not two.
    ctx.basePath = basePath;
    ctx.signal = controller.signal;
    try {
      await handler.run(ctx);
    } catch (err) {
      const answer = errorResponse(err, controller.signal);
      metrics.errors.labels(answer.errorType, endpoint).inc();
      if (answer.unexpected) logger.error({ err, requestId, runnable: route.path, endpoint, caller: ctx.identity?.name }, 'run failed');
      else if (answer.status === 499) logger.info({ requestId, runnable: route.path, endpoint, caller: ctx.identity?.name }, 'client disconnected; run cancelled');
      this.#answerError(res, answer, requestId);
    }
  }

  #answerError(res: ServerResponse, answer: ErrorResponse, requestId: string): void {
    if (answer.status === 499) return;
    sendJson(res, answer.status, errorBody(answer, requestId), answer.headers);
  }
}

/**
 * One request to a runnable endpoint: what its guards see (GuardContext), then, with the run's signal
 * and base path set, what its endpoint gets (RequestContext). One object for both, of one shape, and
 * `onClose` a method rather than a closure made per request.
 */
class RunState implements GuardContext, RequestContext {
  hashConfig: Record<string, unknown> | undefined = undefined;
  identity: Identity | undefined = undefined;
  /** Set when the run starts (#run), after the guards. */
  signal: AbortSignal = NO_SIGNAL;
  basePath = '';
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly bodyLimit: number;
  readonly authRequired: boolean;
  #closers: (() => void)[] | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly requestId: string,
    readonly route: ResolvedRoute,
    readonly endpoint: Endpoint,
    readonly configHash: string | undefined,
    opts: GatewayHandlerOptions,
    readonly pinger: Pinger,
  ) {
    this.logger = opts.logger;
    this.metrics = opts.metrics;
    this.bodyLimit = opts.bodyLimit;
    this.authRequired = opts.authRequired;
  }

  onClose(fn: () => void): void {
    if (this.#closers === undefined) {
      const list: (() => void)[] = (this.#closers = []);
      this.res.on('close', () => list.forEach((f) => f()));
    }
    this.#closers.push(fn);
  }
}

/** RunState's signal before its run starts (guards have none): never aborted. */
const NO_SIGNAL = new AbortController().signal;
