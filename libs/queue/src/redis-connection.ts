import { Redis, type RedisOptions } from 'ioredis';

/**
 * One ioredis connection configured for BullMQ (workers need `maxRetriesPerRequest: null`, and
 * blocking commands must not be cut off by a command timeout). Reconnects forever with a capped
 * backoff: Redis restarts are expected, and the services' readiness reports the outage meanwhile.
 */
export function createRedisConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 3_000),
    ...options,
  });
}

export interface RedisDurability {
  appendonly: boolean;
  maxmemoryPolicy: string;
  problems: string[];
}

/**
 * Queues and checkpoints live in Redis, so Redis must neither lose acknowledged writes on restart
 * (AOF) nor evict keys under memory pressure (noeviction). Managed Redis often forbids CONFIG:
 * then the check reports what it could not verify rather than failing.
 */
export async function checkRedisDurability(redis: Redis): Promise<RedisDurability> {
  const problems: string[] = [];
  let appendonly = false;
  let maxmemoryPolicy = 'unknown';
  try {
    const aof = (await redis.config('GET', 'appendonly')) as string[];
    const policy = (await redis.config('GET', 'maxmemory-policy')) as string[];
    appendonly = aof[1] === 'yes';
    maxmemoryPolicy = policy[1] ?? 'unknown';
    if (!appendonly) problems.push('appendonly is "no": a Redis restart loses queued batches and checkpoints; set appendonly yes');
    if (maxmemoryPolicy !== 'noeviction') {
      problems.push(`maxmemory-policy is "${maxmemoryPolicy}": Redis may evict queue keys under memory pressure; set noeviction`);
    }
  } catch (err) {
    problems.push(`could not read Redis config (${(err as Error).message}); verify appendonly yes and maxmemory-policy noeviction by hand`);
  }
  return { appendonly, maxmemoryPolicy, problems };
}
