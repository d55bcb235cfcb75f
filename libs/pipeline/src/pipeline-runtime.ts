import type { Server } from 'node:http';
import { secretValues } from '@runnel/config';
import { boundPort, createMetricsRegistry, pipelineMetrics, type PipelineMetrics, type Registry, startOpsServer } from '@runnel/metrics';
import { endpointOf, type ProcessSignals, ServiceLifecycle, untilAborted } from '@runnel/service';
import { createLogger, type Logger, stopTracing } from '@runnel/telemetry';
import { checkRedisDurability, createRedisConnection, type RedisClient } from '@runnel/queue';
import type { PipelineConfig } from './pipeline-config';

/** Thrown at start-up when Redis would lose queue state (no AOF, evicting) and REDIS_REQUIRE_DURABLE is on. */
export class RedisNotDurableError extends Error {
  constructor(problems: string[]) {
    super(`Redis is not safe for the pipeline (set REDIS_REQUIRE_DURABLE=false to run anyway):\n  ${problems.join('\n  ')}`);
    this.name = 'RedisNotDurableError';
  }
}

/** How a pipeline service's start function is run: by main.ts (signals), or in-process by a test. */
export interface PipelineRuntimeOptions {
  handleProcessEvents?: boolean;
  exit?: (code: number) => void;
  /**
   * main.ts's ProcessSignals: a SIGTERM/SIGINT during start-up closes the Redis connections (no more
   * reconnecting) and start-up rejects at once; `serve()` hands the signals to the lifecycle.
   */
  signals?: ProcessSignals;
}

/**
 * The parts every pipeline service is made of: logger, metrics, lifecycle, a Redis connection
 * checked for durability, and the ops server. The service adds its workers and readiness checks,
 * then calls `serve()`.
 */
export class PipelineRuntime {
  readonly connections: RedisClient[] = [];
  #ops: Server | undefined;

  private constructor(
    readonly service: string,
    readonly config: PipelineConfig,
    readonly logger: Logger,
    readonly registry: Registry,
    readonly metrics: PipelineMetrics,
    readonly lifecycle: ServiceLifecycle,
    readonly redis: RedisClient,
  ) {}

  static async create(service: string, config: PipelineConfig & Record<string, unknown>, options: PipelineRuntimeOptions = {}): Promise<PipelineRuntime> {
    const { signals, ...lifecycleOptions } = options;
    const logger = createLogger({ service, level: config.LOG_LEVEL, secrets: secretValues(config) });
    const registry = createMetricsRegistry(service);
    const lifecycle = new ServiceLifecycle({ name: service, logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT, signals, ...lifecycleOptions });
    const redis = createRedisConnection(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
    redis.on('error', (err) => logger.warn({ err: { message: err.message } }, 'redis connection error'));
    const runtime = new PipelineRuntime(service, config, logger, registry, pipelineMetrics(registry), lifecycle, redis);
    runtime.connections.push(redis);
    // Interrupted while starting: every connection stops reconnecting now (ioredis would retry for
    // ever), so the process ends as soon as the line is out, with nothing left in its event loop.
    const signal = signals?.signal;
    const stopConnecting = () => {
      for (const c of runtime.connections) c.disconnect();
    };
    // (After start-up the signal is never aborted: the lifecycle takes the signals over.)
    signal?.addEventListener('abort', stopConnecting, { once: true });
    const at = endpointOf(config.REDIS_URL);
    const waited = signals?.waitingFor(() => (redis.status === 'ready' ? `checking Redis at ${at}` : `Redis at ${at} not reachable yet`));
    let durability;
    try {
      // Queued by ioredis until Redis answers, however long that takes: the abort ends the wait.
      durability = await untilAborted(checkRedisDurability(redis), signal);
    } finally {
      waited?.();
    }
    if (durability.problems.length > 0) {
      if (config.REDIS_REQUIRE_DURABLE) {
        redis.disconnect();
        throw new RedisNotDurableError(durability.problems);
      }
      for (const p of durability.problems) logger.warn(p);
    }
    lifecycle.addReadinessCheck('redis', () => ({ ok: redis.status === 'ready', detail: redis.status }));
    return runtime;
  }

  readonly #scrapeHooks: (() => Promise<unknown>)[] = [];

  /** Refreshes gauges read from Redis before every scrape of /metrics (see OpsServerOptions.beforeScrape). */
  onScrape(hook: () => Promise<unknown>): this {
    this.#scrapeHooks.push(hook);
    return this;
  }

  /** A further connection (BullMQ workers block on theirs). Closed at shutdown. */
  connection(): RedisClient {
    const c = createRedisConnection(this.config.REDIS_URL, { cluster: this.config.REDIS_CLUSTER });
    c.on('error', () => undefined); // reported once through the main connection
    this.connections.push(c);
    return c;
  }

  /** Starts the ops server and the lifecycle; `stopWork` runs first on shutdown (stop taking jobs, finish current ones). */
  async serve(stopWork: () => Promise<void>): Promise<number> {
    this.#ops = await startOpsServer({
      registry: this.registry,
      port: this.config.METRICS_PORT,
      host: this.config.HOST,
      routes: { '/health': this.lifecycle.healthHandler, '/ready': this.lifecycle.readyHandler, '/status': this.lifecycle.readyHandler },
      beforeScrape: async () => {
        await Promise.allSettled(this.#scrapeHooks.map((hook) => hook()));
      },
    });
    this.lifecycle
      .onShutdown('work', stopWork)
      .onShutdown('redis', async () => {
        await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
      })
      .onShutdown('ops', () => new Promise<void>((resolve) => this.#ops?.close(() => resolve())))
      .onShutdown('tracing', stopTracing);
    this.lifecycle.start();
    return boundPort(this.#ops);
  }
}
