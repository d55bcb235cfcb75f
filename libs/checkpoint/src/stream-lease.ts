import type { Cluster, Redis } from 'ioredis';
import { leaseKeys } from './checkpoint-keys';
import { runCommand } from './commands';
import { LeaseTerm } from './lease-term';

export interface StreamLeaseOptions {
  prefix: string;
  stream: string;
  /** This replica's id (pod name + pid is a good one). */
  holder: string;
  ttlMs: number;
}

/**
 * Who reads a stream: one active reader holds the lease (SET NX PX), standbys retry acquiring it
 * and take over within the TTL after the holder dies. Each acquisition is a LeaseTerm with a new,
 * larger fencing token; checkpoint writes are only possible through a term (CheckpointStore.writer),
 * so a reader that stalled past its TTL cannot write over its successor.
 */
export class StreamLease {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly opts: StreamLeaseOptions,
  ) {}

  get stream(): string {
    return this.opts.stream;
  }

  /**
   * Tries once. Returns a running term (renewed at a third of the TTL; its signal aborts when the
   * lease is lost, released or `outer` aborts), or undefined when another replica holds the lease.
   */
  async acquire(outer?: AbortSignal): Promise<LeaseTerm | undefined> {
    const k = leaseKeys(this.opts.prefix, this.opts.stream);
    const fence = (await runCommand(this.redis, 'runnelAcquireLease', [k.holder, k.fence, k.term], [this.opts.holder, this.opts.ttlMs])) as number | null;
    if (fence === null) return undefined;
    return LeaseTerm.begin(this, Number(fence), this.opts.ttlMs, outer);
  }

  /** Extends the lease; false means it was lost (expired and maybe taken). */
  async renew(): Promise<boolean> {
    const k = leaseKeys(this.opts.prefix, this.opts.stream);
    return (await runCommand(this.redis, 'runnelRenewLease', [k.holder], [this.opts.holder, this.opts.ttlMs])) === 1;
  }

  async release(): Promise<void> {
    const k = leaseKeys(this.opts.prefix, this.opts.stream);
    await runCommand(this.redis, 'runnelReleaseLease', [k.holder], [this.opts.holder]);
  }

  /** Current holder id, for status pages and the lease_holder metric. */
  async currentHolder(): Promise<string | null> {
    return this.redis.get(leaseKeys(this.opts.prefix, this.opts.stream).holder);
  }
}
