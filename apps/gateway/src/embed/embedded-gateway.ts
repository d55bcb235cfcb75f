import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Runnable } from '@langchain/core/runnables';
import { type ConfigOf, parseConfig } from '@runnel/config';
import { createMetricsRegistry, type Registry } from '@runnel/metrics';
import { createLogger, type Logger } from '@runnel/telemetry';
import { GatewayConfigSchema } from '../config';
import { LANGSERVE_ENDPOINTS } from '../endpoints/route-table';
import { GatewayMetrics } from '../gateway-metrics';
import { ConnectionGuard, type ConnectionLimits, serverTimeouts } from '../http/connection-guard';
import { GatewayHandler, type PageHandler } from '../http/gateway-handler';
import type { Guard } from '../http/guard';
import { normalizeBasePath } from '../http/route-parser';
import { DOCS_PATH, OPENAPI_PATH, serveOpenApi } from '../openapi/openapi-routes';
import type { InputBounds } from '../protocol/input-bounds';
import { RunnableRegistry } from '../registry/runnable-registry';
import type { RouteOptions } from '../registry/route-options';

/** Options of a gateway embedded in another app; every limit defaults to the standalone gateway's default. */
export interface EmbeddedGatewayOptions {
  /** Defaults to a JSON logger at `info` on stdout, like the gateway's. */
  logger?: Logger;
  /** Where the `runnel_gateway_*` metrics go; defaults to a new registry (see `metricsRegistry`). */
  metricsRegistry?: Registry;
  /** A prefix inside the app (as BASE_PATH); the app's own mount path (`app.use('/ai', …)`) comes on top. */
  basePath?: string;
  corsOrigins?: string[];
  /** Who may call (authenticate, authorize, rate limit), run before each run; the app's own auth middleware runs before all of it. */
  callerGuards?: Guard[];
  /** Serve `/openapi.json` and `/docs` under the mount too (off: the app's own paths stay its own). */
  serveDocs?: boolean;
  maxConcurrentRequests?: number;
  requestTimeoutMs?: number;
  bodyLimit?: number;
  pingIntervalMs?: number;
  inputBounds?: InputBounds;
}

/**
 * The gateway as a part of someone else's server, as LangServe's `add_routes` puts routes onto a
 * FastAPI app: the same pipeline (route parser, guards, error map, limits, metrics) as the
 * standalone gateway, handed over as `listener` (node:http) or `middleware` (Express, connect).
 */
export class EmbeddedGateway {
  readonly registry = new RunnableRegistry();
  readonly metricsRegistry: Registry;
  readonly handler: GatewayHandler;
  readonly #logger: Logger;
  readonly #metrics: GatewayMetrics;
  /** The standalone gateway's defaults (GatewayConfigSchema with no environment). */
  readonly #defaults: ConfigOf<typeof GatewayConfigSchema>;

  constructor(options: EmbeddedGatewayOptions = {}) {
    const defaults = (this.#defaults = parseConfig(GatewayConfigSchema, {}));
    const authRequired = (options.callerGuards ?? []).length > 0;
    this.#logger = options.logger ?? createLogger({ service: 'gateway', level: 'info' });
    this.metricsRegistry = options.metricsRegistry ?? createMetricsRegistry('gateway');
    this.#metrics = new GatewayMetrics(this.metricsRegistry);
    const pages: Partial<Record<'openapi' | 'docs', PageHandler>> = {};
    if (options.serveDocs) {
      pages.openapi = (req, res, base) => serveOpenApi(req, res, OPENAPI_PATH, this.registry, authRequired, base);
      pages.docs = (req, res, base) => serveOpenApi(req, res, DOCS_PATH, this.registry, authRequired, base);
    }
    this.handler = new GatewayHandler({
      routes: this.registry,
      endpoints: LANGSERVE_ENDPOINTS,
      pages,
      logger: this.#logger,
      metrics: this.#metrics,
      corsOrigins: options.corsOrigins ?? [],
      callerGuards: options.callerGuards ?? [],
      authRequired,
      basePath: normalizeBasePath(options.basePath ?? ''),
      maxConcurrentRequests: options.maxConcurrentRequests ?? defaults.MAX_CONCURRENT_REQUESTS,
      requestTimeoutMs: options.requestTimeoutMs ?? defaults.REQUEST_TIMEOUT,
      bodyLimit: options.bodyLimit ?? defaults.MAX_BODY_SIZE,
      pingIntervalMs: options.pingIntervalMs ?? defaults.STREAM_PING_INTERVAL,
      inputBounds: options.inputBounds ?? { maxDepth: defaults.MAX_INPUT_DEPTH, maxItems: defaults.MAX_INPUT_ITEMS },
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addRoutes(runnable: Runnable<any, any, any>, options: RouteOptions): this {
    this.registry.addRoutes(runnable, options);
    return this;
  }

  /** A node:http request listener: answers the runnables' paths, 404 for the rest. */
  get listener(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => this.handler.listener(req, res);
  }

  /** Express / connect middleware: answers the runnables' paths and passes everything else to `next()`. */
  get middleware(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
    return this.handler.listener;
  }

  /**
   * The standalone gateway's connection limits on the app's own server: HEADERS_TIMEOUT, BODY_TIMEOUT,
   * KEEP_ALIVE_TIMEOUT as server timeouts, and MAX_CONNECTIONS closing the longest-idle socket first.
   */
  protect(server: Server, limits?: Partial<ConnectionLimits>): void {
    const d = this.#defaults;
    const l: ConnectionLimits = {
      headersTimeoutMs: limits?.headersTimeoutMs ?? d.HEADERS_TIMEOUT,
      bodyTimeoutMs: limits?.bodyTimeoutMs ?? d.BODY_TIMEOUT,
      keepAliveTimeoutMs: limits?.keepAliveTimeoutMs ?? d.KEEP_ALIVE_TIMEOUT,
      maxConnections: limits?.maxConnections ?? d.MAX_CONNECTIONS,
    };
    // connectionsCheckingInterval can only be given to createServer: an existing server keeps Node's
    // (30 s), so a header or body timeout may fire up to that much late.
    const { headersTimeout, requestTimeout, keepAliveTimeout } = serverTimeouts(l);
    Object.assign(server, { headersTimeout, requestTimeout, keepAliveTimeout });
    new ConnectionGuard(server, l, (reason) => this.#metrics.rejected.labels(reason).inc());
  }

  /** Refuses new runs (503), waits up to `graceMs` for those in flight, then cancels the rest. The app closes its server. */
  async drain(graceMs: number): Promise<void> {
    await this.handler.admission.drain(graceMs, (inFlight) => this.#logger.warn({ inFlight }, 'drain grace period over; cancelling runs still in flight'));
  }
}
