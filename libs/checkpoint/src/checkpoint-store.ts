import type { Cluster, Redis } from 'ioredis';
import { checkpointKeys } from './checkpoint-keys';
import { runCommand } from './commands';
import type { LeaseTerm } from './lease-term';
import { StreamWriter } from './stream-writer';

/** A resume token as the driver gives it: an opaque document, stored whole (in checkpoints and in batch jobs). */
export type ResumeToken = Record<string, unknown>;

/** Where a batch is in its life. Records live until the checkpoint passes their last event. */
export type BatchState = 'open' | 'cut' | 'done';

/**
 * One batch of one namespace. With a database- or deployment-scope stream, namespaces interleave,
 * so a batch's seq range [seqStart, seqEnd] holds only its own namespace's events.
 */
export interface BatchRecord {
  id: string;
  database: string;
  /** null for a database-level event (dropDatabase). */
  collection: string | null;
  seqStart: number;
  /** The stream's token just before this batch's first event: the checkpoint while this batch is not stored. */
  tokenBefore: ResumeToken;
  clusterTimeBefore?: string;
  state: BatchState;
  seqEnd?: number;
  /** Token of the batch's last event. */
  token?: ResumeToken;
  clusterTime?: string;
}

export interface Checkpoint {
  generation: number;
  /** Where to resume; undefined for a generation that has no position yet (read from now). */
  token?: ResumeToken;
  /** Every event of this generation with seq ≤ this is in S3. */
  seq: number;
  clusterTime?: string;
  updatedAt: number;
}

/** The stream's generation record (outlives the checkpoint). */
export interface StreamGeneration {
  generation: number;
  startedAt: number;
  reason: string;
}

export interface CheckpointStoreOptions {
  prefix: string;
  /** CHECKPOINT_TTL: state untouched this long expires (a stream gone for good). */
  ttlMs: number;
}

/**
 * Resume state per stream in Redis, and the watermark rule: the stored resume token only ever
 * advances to just before the earliest event not yet in S3, however out of order parallel writers
 * and uploaders finish.
 *
 * Reads and the uploader's `complete` are open to anyone. Every write a reader makes goes through
 * `writer(term)`, which needs a held LeaseTerm: there is no unfenced way to open, cut, advance,
 * reset or start a generation.
 */
export class CheckpointStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly opts: CheckpointStoreOptions,
  ) {}

  /** Ids derive from the data: the same batch gets the same id on every replay, and never one of another generation. */
  static batchId(generation: number, namespace: string, seqStart: number): string {
    return `${generation}:${namespace}@${seqStart}`;
  }

  /** Fenced write access for the holder of `term`. */
  writer(term: LeaseTerm): StreamWriter {
    return StreamWriter.open(this.redis, this.opts, term);
  }

  async load(stream: string): Promise<Checkpoint | undefined> {
    const h = await this.redis.hgetall(checkpointKeys(this.opts.prefix, stream).checkpoint);
    if (h.seq === undefined) return undefined;
    return {
      // A checkpoint written before generations existed belongs to generation 1.
      generation: h.generation ? Number(h.generation) : 1,
      token: h.token ? JSON.parse(h.token) : undefined,
      seq: Number(h.seq),
      clusterTime: h.cluster_time || undefined,
      updatedAt: Number(h.updated_at),
    };
  }

  async generation(stream: string): Promise<StreamGeneration | undefined> {
    const h = await this.redis.hgetall(checkpointKeys(this.opts.prefix, stream).stream);
    if (!h.generation) return undefined;
    return { generation: Number(h.generation), startedAt: Number(h.started_at), reason: h.reason ?? '' };
  }

  /** Marks a batch stored in S3 and moves the checkpoint as far as is safe; returns its seq. Idempotent, unfenced. */
  async complete(stream: string, id: string): Promise<number | undefined> {
    const k = checkpointKeys(this.opts.prefix, stream);
    const seq = (await runCommand(this.redis, 'runnelCompleteBatch', [k.checkpoint, k.pending, k.meta], [id, this.opts.ttlMs, Date.now()])) as number | null;
    return seq === null ? undefined : Number(seq);
  }

  /** Every batch the checkpoint has not yet passed, in stream order. */
  async records(stream: string): Promise<BatchRecord[]> {
    const k = checkpointKeys(this.opts.prefix, stream);
    const ids = await this.redis.zrange(k.pending, '0', '-1');
    if (ids.length === 0) return [];
    const raws = await this.redis.hmget(k.meta, ...ids);
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as BatchRecord);
  }
}
