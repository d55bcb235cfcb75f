import type { Cluster, Redis } from 'ioredis';
import { leaseKeys } from './checkpoint-keys';

// KEYS: holder, fence. ARGV: holder id, ttl ms. Returns the fencing token, or nil when held by another.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return nil`;
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface StreamLeaseOptions {
  prefix: string;
  stream: string;
  /** This replica's id (pod name + pid is a good one). */
  holder: string;
  ttlMs: number;
}

/**
 * Who reads a stream: one active reader holds the lease (SET NX PX, renewed at a third of its TTL),
 * standbys retry acquiring it, and take over within the TTL after the holder dies. Each acquisition
 * gets a fencing token, increasing, that the holder passes with every checkpoint write, so a reader
 * that stalled past its TTL cannot write over its successor.
 */
export class StreamLease {
  #fence: number | undefined;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly opts: StreamLeaseOptions,
  ) {}

  get fence(): number | undefined {
    return this.#fence;
  }

  get held(): boolean {
    return this.#fence !== undefined;
  }

  /** Tries once; returns the fencing token when this replica now holds the lease. */
  async tryAcquire(): Promise<number | undefined> {
    const k = leaseKeys(this.opts.prefix, this.opts.stream);
    const fence = (await this.redis.eval(ACQUIRE, 2, k.holder, k.fence, this.opts.holder, this.opts.ttlMs)) as number | null;
    this.#fence = fence ?? undefined;
    return this.#fence;
  }

  /** Extends the lease; false means it was lost (expired and maybe taken): stop reading. */
  async renew(): Promise<boolean> {
    const k = leaseKeys(this.opts.prefix, this.opts.stream);
    const ok = (await this.redis.eval(RENEW, 1, k.holder, this.opts.holder, this.opts.ttlMs)) === 1;
    if (!ok) this.#fence = undefined;
    return ok;
  }

  async release(): Promise<void> {
    const k = leaseKeys(this.opts.prefix, this.opts.stream);
    await this.redis.eval(RELEASE, 1, k.holder, this.opts.holder);
    this.#fence = undefined;
  }

  /** Current holder id, for status pages and the lease_holder metric. */
  async currentHolder(): Promise<string | null> {
    return this.redis.get(leaseKeys(this.opts.prefix, this.opts.stream).holder);
  }
}
