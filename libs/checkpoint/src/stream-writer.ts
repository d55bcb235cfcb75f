import type { Cluster, Redis } from 'ioredis';
import type { CheckpointStoreOptions, ResumeToken } from './checkpoint-store';
import { checkpointKeys, leaseKeys } from './checkpoint-keys';
import { type CommandName, runCommand } from './commands';
import { FencedError } from './fenced-error';
import type { LeaseTerm } from './lease-term';
import { GenerationChangedError, StateLostError } from './state-errors';

const OPEN = Symbol('StreamWriter.open');

/**
 * A reader's write access to its stream's checkpoint state, for one lease term. Every write is a
 * script that checks, atomically with the write:
 *   - the fencing token is the lease's current one (else FencedError: another reader took over);
 *   - the term's write count is the one this writer expects (else StateLostError: Redis lost
 *     writes this term made, and the reader must replay from what Redis still holds);
 *   - the stream is still on the writer's generation (else GenerationChangedError).
 * Writes are sequential per writer (the reader applies them in order), which the count relies on.
 */
export class StreamWriter {
  #writes = 0;
  readonly #k: ReturnType<typeof checkpointKeys> & { fence: string; term: string };

  private constructor(
    private readonly redis: Redis | Cluster,
    private readonly opts: CheckpointStoreOptions,
    readonly term: LeaseTerm,
    _key: typeof OPEN,
  ) {
    const lease = leaseKeys(opts.prefix, term.stream);
    this.#k = { ...checkpointKeys(opts.prefix, term.stream), fence: lease.fence, term: lease.term };
  }

  /** @internal CheckpointStore.writer's constructor. */
  static open(redis: Redis | Cluster, opts: CheckpointStoreOptions, term: LeaseTerm): StreamWriter {
    return new StreamWriter(redis, opts, term, OPEN);
  }

  get stream(): string {
    return this.term.stream;
  }

  /**
   * Starts a new generation (first start, ON_HISTORY_LOST=latest, an expired checkpoint): seqs
   * begin again at 1 under a generation number no earlier one had — seconds since the epoch,
   * raised above the current one — so keys and job ids never collide with an earlier generation's.
   * `seen` is the generation the caller saw (undefined: none); the script refuses if it moved on.
   */
  async startGeneration(seen: number | undefined, reason: string): Promise<number> {
    const k = this.#k;
    const now = Date.now();
    return Number(
      await this.#run('runnelStartGeneration', [k.fence, k.term, k.stream, k.pending, k.checkpoint, k.meta], seen ?? 0, [seen ?? '', Math.floor(now / 1000), reason, now, this.opts.ttlMs]),
    );
  }

  /** Records a batch's first event. */
  async open(generation: number, batch: { id: string; database: string; collection: string | null; seqStart: number; tokenBefore: ResumeToken; clusterTimeBefore?: string }): Promise<void> {
    const k = this.#k;
    const record = { ...batch, state: 'open' };
    await this.#run('runnelOpenBatch', [k.fence, k.term, k.stream, k.pending, k.meta], generation, [generation, batch.id, batch.seqStart, JSON.stringify(record)]);
  }

  /** Closes a batch before it is handed on. Idempotent. */
  async cut(generation: number, id: string, end: { seqEnd: number; token: ResumeToken; clusterTime?: string }): Promise<void> {
    const k = this.#k;
    await this.#run('runnelCutBatch', [k.fence, k.term, k.stream, k.pending, k.meta], generation, [generation, id, end.seqEnd, JSON.stringify(end.token), end.clusterTime ?? '']);
  }

  /** Offers a post-batch resume token from an idle stream; returns whether the checkpoint moved to it. */
  async advanceIdle(generation: number, nextSeq: number, token: ResumeToken, clusterTime?: string): Promise<boolean> {
    const k = this.#k;
    const r = await this.#run('runnelAdvanceIdle', [k.fence, k.term, k.stream, k.pending, k.checkpoint, k.meta], generation, [
      generation,
      nextSeq,
      JSON.stringify(token),
      clusterTime ?? '',
      this.opts.ttlMs,
      Date.now(),
    ]);
    return r === 1;
  }

  async #run(name: CommandName, keys: string[], generation: number, args: (string | number)[]): Promise<unknown> {
    try {
      const r = await runCommand(this.redis, name, keys, [this.term.fence, this.#writes, ...args]);
      this.#writes++;
      return r;
    } catch (err) {
      const message = (err as Error).message;
      if (message.includes('FENCED')) throw new FencedError(this.stream);
      if (message.includes('STATE_LOST')) {
        // Evidence for the log: which write, and the term key as expected and as Redis has it.
        const found = await this.redis.get(this.#k.term).catch(() => 'unreadable');
        throw new StateLostError(this.stream, `${name}: expected term ${this.term.fence}:${this.#writes}, Redis has ${found ?? 'none'}`);
      }
      if (message.includes('GENERATION')) throw new GenerationChangedError(this.stream, generation);
      throw err;
    }
  }
}
