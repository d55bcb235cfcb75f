import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A connection to one Redis server or to a Redis Cluster: the pipeline uses either the same way. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions extends RedisOptions {
  /** REDIS_URL is one seed node of a Redis Cluster; the client discovers the others. */
  cluster?: boolean;
}

/**
 * One ioredis connection configured for BullMQ (workers need `maxRetriesPerRequest: null`, and
 * blocking commands must not be cut off by a command timeout). Reconnects forever with a capped
 * backoff: Redis restarts are expected, and the services' readiness reports the outage meanwhile.
 * On a cluster every key of the pipeline hashes to one slot (QUEUE_PREFIX's hash tag), so the
 * multi-key Lua scripts of BullMQ and of the checkpoint store run there unchanged.
 *
 * disconnectTimeout: how long a forced disconnect waits for the socket to close before destroying
 * it (ioredis: 2 s). A client between reconnect attempts has a closed socket whose close never
 * comes again, so its disconnect kept an interrupted start-up's event loop busy for the whole 2 s;
 * 100 ms is plenty for a live socket to flush its QUIT.
 */
export function createRedisConnection(url: string, { cluster = false, ...options }: RedisConnectionOptions = {}): RedisClient {
  const redisOptions: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 6), 3_000),
    disconnectTimeout: 100,
    ...options,
  };
  if (!cluster) return new Redis(url, redisOptions);
  const seed = new URL(url);
  const { retryStrategy, ...nodeOptions } = redisOptions;
  return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
    redisOptions: {
      ...nodeOptions,
      username: seed.username ? decodeURIComponent(seed.username) : undefined,
      password: seed.password ? decodeURIComponent(seed.password) : undefined,
      tls: seed.protocol === 'rediss:' ? {} : undefined,
    },
    clusterRetryStrategy: retryStrategy,
    enableReadyCheck: true,
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
export async function checkRedisDurability(redis: RedisClient): Promise<RedisDurability> {
  if (redis instanceof Cluster) {
    // Every master must be safe: the pipeline's slot may move to any of them.
    await waitUntilReady(redis);
    const checks = await Promise.all(redis.nodes('master').map((node) => checkRedisDurability(node)));
    return {
      appendonly: checks.every((c) => c.appendonly),
      maxmemoryPolicy: [...new Set(checks.map((c) => c.maxmemoryPolicy))].join(','),
      problems: checks.flatMap((c, i) => c.problems.map((p) => `${describeNode(redis.nodes('master')[i])}: ${p}`)),
    };
  }
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

function describeNode(node: Redis): string {
  return `node ${node.options.host}:${node.options.port}`;
}

function waitUntilReady(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    cluster.once('ready', () => resolve());
    cluster.once('error', reject);
  });
}
