import { type ConfigOf, env } from '@runnel/config';
import { checkPrefix, DEFAULT_PREFIX } from '@runnel/queue';

/** Environment every pipeline service reads. */
export const PipelineConfigSchema = {
  /**
   * Redis that holds the queues, batch and object bodies, checkpoints and the stream lease (`rediss://` for
   * TLS). A URL with a password belongs in the service's Secret, not its ConfigMap.
   */
  REDIS_URL: env.url({ default: 'redis://127.0.0.1:6379', protocols: ['redis', 'rediss'] }),
  /**
   * REDIS_URL is one node of a Redis Cluster (true): the services find the other nodes themselves and
   * follow slot moves and failovers. All pipeline keys share QUEUE_PREFIX's hash tag, so they live in
   * one slot; every master must run with AOF and noeviction.
   */
  REDIS_CLUSTER: env.bool(false),
  /**
   * Prefix of every Redis key the pipeline uses (queues, bodies, checkpoints, lease); it must contain a Redis
   * Cluster hash tag such as `{runnel}` so all keys share one slot. Use the same prefix in all three
   * services, and a different one per installation sharing a Redis.
   */
  QUEUE_PREFIX: env.str(DEFAULT_PREFIX).refine((p) => checkPrefix(p) === undefined, { message: 'must contain a Redis Cluster hash tag such as {runnel}' }),
  /** Refuse to start on a Redis without AOF or with eviction (true), or only warn (false). */
  REDIS_REQUIRE_DURABLE: env.bool(true),
  /**
   * Ops port: Prometheus `/metrics` plus `/health` and `/ready` (the probes' port; the pipeline services have
   * no other). 0 picks a free port (logged at start-up).
   */
  METRICS_PORT: env.port(9090),
  /** Interface the ops server binds to: `0.0.0.0` for all, `127.0.0.1` for local access only. */
  HOST: env.str('0.0.0.0'),
  /** Lowest level written to the JSON log; `silent` turns logging off. */
  LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
  /**
   * Seconds from SIGTERM to a forced exit (code 1), during which the service stops taking work and finishes
   * what it holds; a job cut off is taken over by another pod once its lock lapses. Keep it below the pod's
   * terminationGracePeriodSeconds.
   */
  SHUTDOWN_TIMEOUT: env.secondsAsMs(30, { min: 0.1 }),
};

export type PipelineConfig = ConfigOf<typeof PipelineConfigSchema>;
