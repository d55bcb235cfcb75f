import { type ConfigOf, env, Secret } from '@runnel/config';
import type { Logger } from '@runnel/telemetry';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import type { CallerLimiter } from './caller-limiter';
import type { LimitMetrics } from './limit-metrics';
import { LimiterWarnings } from './limiter-warnings';
import { MemoryCallerLimiter } from './memory-caller-limiter';
import { RedisCallerLimiter } from './redis-caller-limiter';

/**
 * A redis:// or rediss:// URL kept as a Secret: it may carry a password (`redis://:pw@host:6379`),
 * so it prints as "[redacted]" and secretValues() scrubs it from logged errors. libs/config has a
 * URL builder and a secret builder but no secret URL; this joins the two.
 */
function secretRedisUrl() {
  return env
    .url({ optional: true, protocols: ['redis', 'rediss'] })
    .transform((v) => (v === undefined ? undefined : new Secret(v))) as unknown as z.ZodType<Secret | undefined>;
}

/** The per-caller limits' environment (spread into GatewayConfigSchema). */
export const LimitsConfig = {
  /**
   * Redis (`redis://[:password@]host:port[/db]`, `rediss://` for TLS) holding the per-caller rate limits and
   * concurrency quotas, so every replica shares them. Unset: each instance counts on its own (N replicas
   * allow N times the limits). If Redis stops answering (250 ms per command), requests are let through
   * unlimited with a warning and runnel_gateway_limiter_errors_total, never refused. Secret: redacted in logs.
   */
  GATEWAY_REDIS_URL: secretRedisUrl(),
  /**
   * Requests per minute each caller (API key or JWT subject) may send, unless its keys-file entry sets its
   * own; more is refused with 429 and `Retry-After`, and responses carry the IETF `RateLimit` headers. A
   * caller may spend the whole minute's budget at once, then earns one request back every 60/limit s. 0: no
   * limit. Applies only when authentication is on.
   */
  GATEWAY_RATE_LIMIT: env.int(0, { min: 0, max: 1_000_000 }),
  /**
   * Requests each caller may have in flight at once (streams count until they end), unless its keys-file
   * entry sets its own; one more is refused with 429. 0: no quota. Applies only when authentication is on.
   */
  GATEWAY_CALLER_CONCURRENCY: env.int(0, { min: 0, max: 100_000 }),
};

export type LimitsConfigValues = ConfigOf<typeof LimitsConfig>;

/** Longest wait for Redis per command: past it the guard fails open rather than hold the request. */
export const LIMITER_COMMAND_TIMEOUT_MS = 250;

/**
 * The limiter the configuration asks for: Redis-backed when GATEWAY_REDIS_URL is set, otherwise in
 * memory. Its close() stops slot renewals and, for Redis, disconnects. The Redis client connects
 * in the background and reconnects forever; meanwhile every command fails within
 * LIMITER_COMMAND_TIMEOUT_MS and the guard lets requests through.
 */
export function createCallerLimiter(
  config: Pick<LimitsConfigValues, 'GATEWAY_REDIS_URL'>,
  logger: Logger,
  metrics: LimitMetrics,
  options: { prefix?: string } = {},
): CallerLimiter {
  if (!config.GATEWAY_REDIS_URL) return new MemoryCallerLimiter();
  const warnings = new LimiterWarnings(metrics, logger);
  const redis = new Redis(config.GATEWAY_REDIS_URL.reveal(), {
    commandTimeout: LIMITER_COMMAND_TIMEOUT_MS,
    // A command waiting for a reconnect is failed at the next attempt instead of piling up.
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
    connectionName: 'runnel-gateway-limits',
  });
  let lastError = '';
  redis.on('error', (err: Error) => {
    // ioredis emits one per reconnect attempt; the guard's warnings say what it means for requests.
    if (err.message !== lastError) logger.warn({ err }, 'caller limiter: Redis connection error');
    lastError = err.message;
  });
  redis.on('ready', () => {
    if (lastError) logger.info('caller limiter: Redis connection back');
    lastError = '';
  });
  return new RedisCallerLimiter(redis, {
    ownsClient: true,
    prefix: options.prefix,
    onError: (operation, err) => warnings.report(operation, err),
  });
}
