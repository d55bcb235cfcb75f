import type { Server } from 'node:http';
import { type ConfigOf, secretValues } from '@runnel/config';
import { boundPort, createMetricsRegistry, type Registry, startOpsServer } from '@runnel/metrics';
import { endpointOf, type ProcessSignals, ServiceLifecycle, untilAborted } from '@runnel/service';
import { createLogger, type Logger, stopTracing } from '@runnel/telemetry';
import type { GatewayConfigSchema } from './config';
import { GatewayMetrics } from './gateway-metrics';
import { LANGSERVE_ENDPOINTS } from './endpoints/route-table';
import { GatewayHandler } from './http/gateway-handler';
import { GatewayServer } from './http/gateway-server';
import { CallerLabels } from './caller/caller-labels';
import type { Guard } from './http/guard';
import { createAuthenticateGuard } from './identity/authenticate-guard';
import { createAuthorizeGuard } from './identity/authorize-guard';
import { createAuthenticators } from './identity/identity-config';
import { IdentityMetrics } from './identity/identity-metrics';
import type { CallerLimiter } from './limits/caller-limiter';
import { LimitMetrics } from './limits/limit-metrics';
import { createCallerLimiter } from './limits/limits-config';
import { RateLimitGuard } from './limits/rate-limit-guard';
import { sendJson } from './http/response-writer';
import { normalizeBasePath } from './http/route-parser';
import { DOCS_PATH, OPENAPI_PATH, serveOpenApi } from './openapi/openapi-routes';
import { RunnableRegistry } from './registry/runnable-registry';
import { loadRunnablesModule } from './registry/runnables-module';
import { registerBuiltins } from './runnables/builtin-runnables';
import { createChatModel } from './runnables/chat-model-factory';
import { statusOf } from './runnables/retry-policy';
// Types only: the agent API's modules (and @langchain/langgraph with them) load only when
// POSTGRES_URI is set (`require` below: esbuild then bundles them behind a lazy init). Loading LangGraph switches LangChain's config propagation to a real
// AsyncLocalStorage for every runnable call, a measured 4–8% of a runnable request's CPU.
import type { AgentPlatform } from './agents/agent-platform';
import { GraphSetupError } from './agents/graphs/agent-graphs';
import { loadLangGraphJson } from './agents/graphs/langgraph-json';
import { agentAdmission } from './agents/http/agent-admission';

export type GatewayConfig = ConfigOf<typeof GatewayConfigSchema>;

export interface GatewayApp {
  port: number;
  metricsPort: number;
  server: GatewayServer;
  runnables: RunnableRegistry;
  lifecycle: ServiceLifecycle;
  registry: Registry;
  logger: Logger;
  /** The LangGraph Platform API, when POSTGRES_URI is set. */
  agents?: AgentPlatform;
}

export interface GatewayAppOptions {
  logger?: Logger;
  /** Register more runnables in-process (tests, embedding); runs after built-ins and RUNNABLES_MODULE. */
  register?: (runnables: RunnableRegistry) => unknown;
  handleProcessEvents?: boolean;
  exit?: (code: number) => void;
  /** main.ts's ProcessSignals: a SIGTERM/SIGINT during start-up ends it at once; the lifecycle takes them over once started. */
  signals?: ProcessSignals;
}

/** Wires the gateway's parts together and starts serving. main.ts calls it; so do the tests. */
export async function startGateway(config: GatewayConfig, options: GatewayAppOptions = {}): Promise<GatewayApp> {
  const logger = options.logger ?? createLogger({ service: 'gateway', level: config.LOG_LEVEL, secrets: secretValues(config) });
  const registry = createMetricsRegistry('gateway');
  const metrics = new GatewayMetrics(registry);
  const lifecycle = new ServiceLifecycle({
    name: 'gateway',
    logger,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT,
    handleProcessEvents: options.handleProcessEvents,
    exit: options.exit,
    signals: options.signals,
  });

  const chat = createChatModel({
    providers: config.CHAT_PROVIDERS,
    openaiApiKey: config.OPENAI_API_KEY,
    openaiBaseUrl: config.OPENAI_BASE_URL,
    openaiModel: config.OPENAI_MODEL,
    anthropicApiKey: config.ANTHROPIC_API_KEY,
    anthropicModel: config.ANTHROPIC_MODEL,
    localTokenDelayMs: config.LOCAL_MODEL_TOKEN_DELAY_MS,
    timeoutMs: config.LLM_TIMEOUT,
    maxRetries: config.MAX_RETRIES,
    backoffMs: config.RETRY_BACKOFF_MS,
    duration: metrics.llmDuration,
    onFallback: (from, to, err) => {
      metrics.modelFallbacks.labels(from, to).inc();
      logger.warn({ from, to, status: statusOf(err), error: (err as Error)?.name }, 'chat provider failed; falling back');
    },
  });
  if (chat.providers.length === 1 && chat.provider === 'local' && !config.OPENAI_API_KEY && !config.ANTHROPIC_API_KEY) logger.warn('no OPENAI_API_KEY or ANTHROPIC_API_KEY: "chat" uses the local deterministic model');
  else
    logger.info(
      { provider: chat.provider, model: chat.modelName, fallbacks: chat.providers.slice(1).map((p) => p.provider), baseUrl: config.OPENAI_BASE_URL },
      'chat model configured',
    );

  const runnables = new RunnableRegistry();
  if (!config.DISABLE_BUILTINS) registerBuiltins(runnables, chat);
  if (config.RUNNABLES_MODULE) await loadRunnablesModule(config.RUNNABLES_MODULE, runnables, { chatModel: chat.model, chat: chat.runnable, env: process.env });
  await options.register?.(runnables);
  // Graphs: the built-in agent (with POSTGRES_URI), LANGGRAPH_JSON's, and RUNNABLES_MODULE's addGraph.
  const graphs = runnables.graphs;
  if (config.POSTGRES_URI && !config.DISABLE_BUILTINS) {
    const { BUILTIN_AGENT_ID, createBuiltinAgent } = require('./agents/graphs/builtin-agent') as typeof import('./agents/graphs/builtin-agent');
    if (!graphs.get(BUILTIN_AGENT_ID)) graphs.add(createBuiltinAgent(chat.model), { graphId: BUILTIN_AGENT_ID, origin: 'built-in' });
  }
  if (config.LANGGRAPH_JSON) await loadLangGraphJson(config.LANGGRAPH_JSON, graphs);
  if (graphs.size > 0 && !config.POSTGRES_URI)
    throw new GraphSetupError(`POSTGRES_URI is required to serve LangGraph graphs (${graphs.ids.join(', ')}): threads, runs and checkpoints live in PostgreSQL`);
  if (config.POSTGRES_URI && !config.GATEWAY_REDIS_URL) throw new GraphSetupError('GATEWAY_REDIS_URL is required with POSTGRES_URI: agent runs are queued and streamed through Redis');
  if (runnables.size === 0 && graphs.size === 0) throw new Error('No runnables to serve: DISABLE_BUILTINS is set and RUNNABLES_MODULE registered none');

  const basePath = normalizeBasePath(config.BASE_PATH);
  // Callers: API keys (GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE) and/or JWTs; then per-caller limits.
  const authenticator = await createAuthenticators(config, logger);
  const authRequired = authenticator !== undefined;
  const callerGuards: Guard[] = [];
  let limiter: CallerLimiter | undefined;
  if (authenticator) {
    const callerLabels = new CallerLabels();
    const identityMetrics = new IdentityMetrics(registry, callerLabels);
    const limitMetrics = new LimitMetrics(registry, callerLabels);
    limiter = createCallerLimiter(config, logger, limitMetrics);
    callerGuards.push(
      createAuthenticateGuard({ authenticator, metrics: identityMetrics, logger }),
      createAuthorizeGuard({ metrics: identityMetrics, logger }),
      new RateLimitGuard({
        limiter,
        defaults: { requestsPerMinute: config.GATEWAY_RATE_LIMIT, concurrency: config.GATEWAY_CALLER_CONCURRENCY },
        metrics: limitMetrics,
        logger,
      }),
    );
    if (options.handleProcessEvents !== false && config.GATEWAY_API_KEYS_FILE) {
      // kill -HUP: pick up added, removed or disabled keys without a restart; a bad file keeps the old keys.
      process.on('SIGHUP', () => {
        try {
          const summary = authenticator.reload();
          logger.info({ keys: summary?.fromFile, disabled: summary?.disabled }, 'GATEWAY_API_KEYS_FILE reloaded');
        } catch (err) {
          logger.error({ err }, 'GATEWAY_API_KEYS_FILE reload failed; the keys already loaded stay in use');
        }
      });
    }
  } else if (config.GATEWAY_RATE_LIMIT > 0 || config.GATEWAY_CALLER_CONCURRENCY > 0) {
    logger.warn('GATEWAY_RATE_LIMIT / GATEWAY_CALLER_CONCURRENCY apply per caller and auth is off: no limits are enforced');
  }
  let agents: AgentPlatform | undefined;
  if (config.POSTGRES_URI && config.GATEWAY_REDIS_URL) {
    const { startAgentPlatform } = require('./agents/agent-platform') as typeof import('./agents/agent-platform');
    const waited = options.signals?.waitingFor(`starting the agent API: PostgreSQL at ${endpointOf(config.POSTGRES_URI)}, Redis at ${endpointOf(config.GATEWAY_REDIS_URL)}`);
    const starting = startAgentPlatform({
      signal: options.signals?.signal,
      graphs,
      postgresUri: config.POSTGRES_URI,
      redisUrl: config.GATEWAY_REDIS_URL,
      redisPrefix: config.AGENT_REDIS_PREFIX,
      maxConcurrentRuns: config.AGENT_MAX_CONCURRENT_RUNS,
      runLockMs: config.AGENT_RUN_LOCK_TIMEOUT,
      maxAttempts: config.AGENT_RUN_MAX_ATTEMPTS,
      streamRetentionSeconds: config.AGENT_STREAM_RETENTION,
      cronIntervalMs: config.AGENT_CRON_INTERVAL,
      bodyLimit: config.MAX_BODY_SIZE,
      logger,
      registry,
      pingIntervalMs: config.STREAM_PING_INTERVAL,
      inputBounds: { maxDepth: config.MAX_INPUT_DEPTH, maxItems: config.MAX_INPUT_ITEMS },
      admit: callerGuards.length ? agentAdmission(callerGuards) : undefined,
      draining: () => lifecycle.draining,
    });
    try {
      agents = await untilAborted(starting, options.signals?.signal);
    } finally {
      waited?.();
    }
  }
  const handler = new GatewayHandler({
    beside: agents?.api,
    routes: runnables,
    endpoints: LANGSERVE_ENDPOINTS,
    pages: {
      index: (_req, res) => sendJson(res, 200, { service: 'runnel-gateway', runnables: runnables.paths }),
      openapi: (req, res, base) => serveOpenApi(req, res, OPENAPI_PATH, runnables, authRequired, base),
      docs: (req, res, base) => serveOpenApi(req, res, DOCS_PATH, runnables, authRequired, base),
    },
    health: lifecycle.healthHandler,
    ready: lifecycle.readyHandler,
    logger,
    metrics,
    corsOrigins: config.CORS_ORIGINS,
    callerGuards,
    authRequired,
    basePath,
    maxConcurrentRequests: config.MAX_CONCURRENT_REQUESTS,
    requestTimeoutMs: config.REQUEST_TIMEOUT,
    bodyLimit: config.MAX_BODY_SIZE,
    pingIntervalMs: config.STREAM_PING_INTERVAL,
    inputBounds: { maxDepth: config.MAX_INPUT_DEPTH, maxItems: config.MAX_INPUT_ITEMS },
  });
  const server = new GatewayServer({
    handler,
    logger,
    metrics,
    connectionLimits: {
      headersTimeoutMs: config.HEADERS_TIMEOUT,
      bodyTimeoutMs: config.BODY_TIMEOUT,
      keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT,
      maxConnections: config.MAX_CONNECTIONS,
    },
  });
  lifecycle.addReadinessCheck('http', () => ({ ok: server.server.listening }));
  lifecycle.addReadinessCheck('runnables', () => ({ ok: runnables.size > 0 || graphs.size > 0, detail: runnables.paths }));
  if (agents) lifecycle.addReadinessCheck('agents', () => ({ ok: true, detail: { graphs: agents.graphIds, running: agents.worker?.running ?? 0 } }));
  lifecycle.addReadinessCheck('capacity', () => ({
    ok: true,
    detail: { in_flight: server.inFlight, max: config.MAX_CONCURRENT_REQUESTS },
  }));

  const port = await server.listen(config.PORT, config.HOST);
  let ops: Server;
  try {
    ops = await startOpsServer({
      registry,
      port: config.METRICS_PORT,
      host: config.HOST,
      routes: { '/health': lifecycle.healthHandler, '/ready': lifecycle.readyHandler },
    });
  } catch (err) {
    server.server.close();
    throw err;
  }

  // Leave part of SHUTDOWN_TIMEOUT for cancelling stragglers and closing, so the drain ends before the hard limit.
  const graceMs = Math.max(0, config.SHUTDOWN_TIMEOUT - Math.min(2_000, config.SHUTDOWN_TIMEOUT / 5));
  lifecycle
    .onShutdown('http', () => Promise.all([server.drain(graceMs), agents?.drain(graceMs)]).then(() => agents?.close()))
    .onShutdown('limiter', () => limiter?.close())
    .onShutdown('ops', () => new Promise<void>((resolve) => ops.close(() => resolve())))
    .onShutdown('tracing', stopTracing);
  lifecycle.start();
  logger.info(
    { port, metricsPort: boundPort(ops), runnables: runnables.paths, graphs: graphs.ids, auth: authRequired, basePath: basePath || '/', maxConcurrent: config.MAX_CONCURRENT_REQUESTS },
    'gateway listening',
  );
  return { port, metricsPort: boundPort(ops), server, runnables, lifecycle, registry, logger, agents };
}
