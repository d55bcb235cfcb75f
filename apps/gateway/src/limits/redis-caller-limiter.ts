import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import {
  type CallerLimiter,
  DEFAULT_LEASE_MS,
  emissionIntervalUs,
  type LimiterErrorHandler,
  type LimiterOperation,
  LimiterUnavailableError,
  type RateDecision,
  type RatePolicy,
  rateDecision,
  SLOT_RETRY_AFTER_SECONDS,
  type SlotDecision,
  SlotLease,
} from './caller-limiter';
import { runLimitsCommand } from './commands';

export const LIMITS_KEY_PREFIX = 'runnel:gateway:limits:';

export interface RedisCallerLimiterOptions {
  /** Key prefix; LIMITS_KEY_PREFIX by default (tests use a fresh one each). */
  prefix?: string;
  /** Background failures (renewing, releasing): nobody awaits those to see them. */
  onError?: LimiterErrorHandler;
  /** close() also disconnects the client (the factory's own client). */
  ownsClient?: boolean;
}

/**
 * The limiter shared by every gateway replica through one Redis (or Redis Cluster): each decision
 * is one Lua script (commands/), atomic, on Redis's clock (TIME), so replicas with skewed clocks
 * agree. Keys: `<prefix>{<caller>}:rate` (GCRA arrival time) and `<prefix>{<caller>}:slots` (sorted
 * set of slot ids by lease expiry); the caller's name, URI-encoded (no braces left), is the hash
 * tag, so on a Cluster all of one caller's keys live on one slot.
 *
 * It never waits on Redis longer than the client's command timeout (the factory sets ~250 ms) and
 * turns every failure into LimiterUnavailableError; the guard then fails open.
 */
export class RedisCallerLimiter implements CallerLimiter {
  readonly #prefix: string;
  readonly #held = new Set<SlotLease>();

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly options: RedisCallerLimiterOptions = {},
  ) {
    this.#prefix = options.prefix ?? LIMITS_KEY_PREFIX;
  }

  /** The key of one of a caller's records (`rate` or `slots`). */
  key(caller: string, record: 'rate' | 'slots'): string {
    return `${this.#prefix}{${encodeURIComponent(caller)}}:${record}`;
  }

  async takeRequest(caller: string, { requestsPerMinute: limit }: RatePolicy): Promise<RateDecision> {
    const reply = (await this.#run('take', () =>
      runLimitsCommand(this.redis, 'runnelLimitsTakeRequest', [this.key(caller, 'rate')], [emissionIntervalUs(limit), limit]),
    )) as [number, number, number, number];
    return rateDecision(limit, reply[0] === 1, reply[1], reply[2], reply[3]);
  }

  async acquireSlot(caller: string, max: number, leaseMs = DEFAULT_LEASE_MS): Promise<SlotDecision> {
    const key = this.key(caller, 'slots');
    const id = randomUUID();
    const reply = (await this.#run('acquire', () => runLimitsCommand(this.redis, 'runnelLimitsAcquireSlot', [key], [id, max, leaseMs]))) as [
      number,
      number,
    ];
    if (reply[0] !== 1) return { ok: false, inUse: reply[1], retryAfterSeconds: SLOT_RETRY_AFTER_SECONDS };
    const lease = new SlotLease(
      leaseMs,
      () => this.#background('renew', () => runLimitsCommand(this.redis, 'runnelLimitsRenewSlot', [key], [id, leaseMs])),
      () => this.#background('release', () => this.redis.zrem(key, id)),
      (l) => this.#held.delete(l),
    );
    this.#held.add(lease);
    return lease;
  }

  async close(): Promise<void> {
    for (const lease of [...this.#held]) lease.stop();
    if (!this.options.ownsClient) return;
    // QUIT lets Redis close the socket (nothing left to time out); when Redis is away it fails within the command timeout.
    // disconnect() after it in any case: a QUIT answered while reconnecting leaves the reconnect timer running.
    await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  async #run(operation: LimiterOperation, command: () => Promise<unknown>): Promise<unknown> {
    try {
      return await command();
    } catch (err) {
      throw new LimiterUnavailableError(operation, err);
    }
  }

  /** A renewal or release: its failure is reported, never thrown (a lapsed lease only frees a slot early). */
  async #background(operation: LimiterOperation, command: () => Promise<unknown>): Promise<void> {
    try {
      await command();
    } catch (err) {
      this.options.onError?.(operation, new LimiterUnavailableError(operation, err));
    }
  }
}
