import { inspect } from 'node:util';
import type { Queue } from 'bullmq';
import {
  CheckpointMissingError,
  type CheckpointStore,
  FencedError,
  GenerationChangedError,
  LeaseLostError,
  type LeaseTerm,
  type ResumeToken,
  StateLostError,
  type StreamLease,
  StreamStateLostError,
  type StreamWriter,
} from '@runnel/checkpoint';
import type { PipelineMetrics } from '@runnel/metrics';
import { jsonlLine } from '@runnel/lake/records';
import { EJSON } from 'bson';
import { type BodyStore, CHANGE_EVENTS, deadLetter, jobIdFor } from '@runnel/queue';
import type { Logger } from '@runnel/telemetry';
import { BatchCutter, type CutterAction, type CutterOptions, cutSize, namespaceOf } from './batching/batch-cutter';
import { BatchHandoff } from './batching/batch-handoff';
import { clusterSeconds, MalformedChangeError, toEnvelope } from './change-envelope-mapper';
import { type ChangeSource, type FreshStart, HistoryLostError, OversizeEventError, type ResumePoint, type SkippedEvent, type SourceChange } from './sources/change-source';
import { pause } from '@runnel/service';
import type { SnapshotMode } from './snapshot/snapshot-source';

export interface ChangeReaderOptions {
  source: ChangeSource;
  checkpoints: CheckpointStore;
  lease: StreamLease;
  batches: Queue;
  /** Read only: whether a batch's object job exists (BatchHandoff.vanished). */
  objects: Queue;
  /** Where batch bodies (JSONL) go; the job carries the key. */
  bodies: BodyStore;
  /** The dead-letter queue: change events that cannot be made into an envelope go there, with the reason. */
  deadLetters: Queue;
  cutter: CutterOptions;
  bufferLimit: number;
  leaseTtlMs: number;
  /** What to do when the resume point is gone (history lost, or the checkpoint expired). */
  onHistoryLost: 'fail' | 'latest';
  /** SNAPSHOT_MODE, for the log lines that say what happens next. */
  snapshotMode?: SnapshotMode;
  /** How often the reader checks that every handed-on batch is still carried by a job. Default 5 s. */
  auditIntervalMs?: number;
  metrics: PipelineMetrics;
  logger: Logger;
}

/**
 * standby: another replica reads; reading; history_lost: the resume point is gone and
 * ON_HISTORY_LOST=fail (an operator must act); state_lost: Redis came back without this stream's
 * state (an operator must act); oversize_event: an event over 16 MB that OVERSIZE_EVENTS does not
 * let through (an operator must act); snapshot_complete: SNAPSHOT_MODE=initial_only has emitted
 * every row and reads no further (done, ready); stopped.
 */
export type ReaderState = 'standby' | 'reading' | 'history_lost' | 'state_lost' | 'oversize_event' | 'snapshot_complete' | 'stopped';

/** States in which the reader has stopped for an operator (not ready). */
export const HALTED: readonly ReaderState[] = ['history_lost', 'state_lost', 'oversize_event'];

/** Thrown inside a term when batches were handed on but nothing carries them any more. */
class HandoffLostError extends Error {
  constructor(readonly ids: string[]) {
    super(`${ids.length} handed-on batches are carried by no job (Redis lost them): ${ids.slice(0, 5).join(', ')}`);
  }
}

const HISTORY_LOST_FAIL =
  "CHANGE STREAM HISTORY LOST: the checkpoint is older than the oplog. Reading stopped (ON_HISTORY_LOST=fail). To continue: restart with SNAPSHOT_MODE=when_needed (a new generation that snapshots the watched collections, then streams; earlier objects stay as they are), or with ON_HISTORY_LOST=latest to read from now without the documents changed in between (docs/runbooks.md#history-lost); consider a larger oplog.";
const CHECKPOINT_MISSING_FAIL =
  "CHECKPOINT MISSING: the stream has a generation in Redis but no checkpoint (it expired after CHECKPOINT_TTL with no reader running, or was deleted). Reading stopped (ON_HISTORY_LOST=fail) rather than silently starting from now. To continue: restart with SNAPSHOT_MODE=when_needed (a new generation that snapshots the watched collections, then streams), or with ON_HISTORY_LOST=latest (a new generation from now, without the changes in between); keep CHECKPOINT_TTL at least as long as the longest reader outage.";
const STATE_LOST_FATAL =
  "REDIS STATE LOST: Redis came back with no state for this stream (no AOF/RDB, a new instance, or a flushed database). Reading stopped rather than silently starting from now. Events since the last checkpoint may not be in the lake: check with `npm run lake:verify`, restore Redis from a backup if you have one, or start a new generation by restarting the readers (a fresh process starts one, and unless SNAPSHOT_MODE=never it snapshots the watched collections first).";

/**
 * change-reader's loop for one stream: hold the lease (or stand by), resume from the checkpoint,
 * cut batches and hand them on (BatchHandoff), keep idle streams' checkpoints fresh with post-batch
 * tokens, and replay from the checkpoint whenever Redis turns out to have lost what the reader wrote.
 */
export class ChangeReaderService {
  state: ReaderState = 'standby';
  /** Last seq read, and the checkpoint seq as last seen: their difference is what is in flight. */
  lastSeq = 0;
  checkpointSeq = 0;
  /** The generation this process last saw in Redis: if Redis later has none, it came back empty. */
  generation: number | undefined;

  constructor(private readonly o: ChangeReaderOptions) {}

  get stream(): string {
    return this.o.source.stream;
  }

  /** Runs until `signal` aborts, or until an operator must act (history_lost, state_lost). */
  async run(signal: AbortSignal): Promise<void> {
    const { lease, logger, metrics, leaseTtlMs } = this.o;
    while (!signal.aborted && this.#running) {
      let term: LeaseTerm | undefined;
      try {
        await this.#observe();
        term = await lease.acquire(signal);
      } catch (err) {
        if (err instanceof StreamStateLostError) {
          this.#stateLost(err);
          break;
        }
        logger.warn({ err: { message: (err as Error).message } }, 'lease acquire failed');
      }
      if (!term) {
        this.state = 'standby';
        metrics.leaseHolder.labels(this.stream).set(0);
        await pause(leaseTtlMs / 3, signal);
        continue;
      }
      metrics.leaseHolder.labels(this.stream).set(1);
      logger.info({ stream: this.stream, fence: term.fence }, 'lease acquired; reading');
      try {
        await this.#term(term);
      } catch (err) {
        if (err instanceof LeaseLostError || err instanceof FencedError || term.lost) {
          logger.warn({ stream: this.stream }, 'lease lost; standing by');
        } else if (err instanceof StateLostError || err instanceof HandoffLostError) {
          const reason = err instanceof StateLostError ? 'checkpoint-writes-lost' : 'handed-on-batches-lost';
          metrics.replays.labels(this.stream, reason).inc();
          logger.warn({ stream: this.stream, reason: err.message }, 'Redis lost state this reader wrote; replaying from the checkpoint it holds');
        } else if (err instanceof GenerationChangedError) {
          logger.warn({ stream: this.stream }, 'the stream moved to another generation; starting again from its state');
        } else if (err instanceof StreamStateLostError) {
          this.#stateLost(err);
        } else if (err instanceof OversizeEventError) {
          // The same event fails again on every resume: retrying would loop for ever.
          this.state = 'oversize_event';
          logger.fatal({ stream: this.stream, reason: err.reason, cause: causes(err) }, `OVERSIZE EVENT: reading stopped: ${err.message}`);
        } else if (!signal.aborted) {
          logger.error({ err }, 'reader failed; retrying after a pause');
          await pause(1000, signal);
        }
      } finally {
        metrics.leaseHolder.labels(this.stream).set(0);
        await term.release();
      }
    }
    if (this.#running) this.state = 'stopped';
    else if (HALTED.includes(this.state)) metrics.readerHalted.labels(this.stream, this.state).set(1);
  }

  get #running(): boolean {
    return !HALTED.includes(this.state) && this.state !== 'snapshot_complete';
  }

  /** Standby or not: remember the stream's generation, and notice when Redis has forgotten it. */
  async #observe(): Promise<void> {
    const g = await this.o.checkpoints.generation(this.stream);
    if (g) this.generation = g.generation;
    else if (this.generation !== undefined && !(await this.o.checkpoints.load(this.stream))) throw new StreamStateLostError(this.stream, this.generation);
  }

  #stateLost(err: StreamStateLostError): void {
    this.state = 'state_lost';
    this.o.logger.fatal({ stream: this.stream, generation: err.generation }, STATE_LOST_FATAL);
  }

  /**
   * Where this term starts: the checkpoint of the stream's generation, or a new generation (a new
   * stream; or, with ON_HISTORY_LOST=latest, a checkpoint that expired). Never a silent restart.
   */
  async #startingPoint(writer: StreamWriter): Promise<{ generation: number; seq: number; token?: ResumeToken; clusterTime?: string; fresh?: FreshStart }> {
    const { checkpoints, logger, metrics } = this.o;
    const [g, checkpoint] = await Promise.all([checkpoints.generation(this.stream), checkpoints.load(this.stream)]);
    // A checkpoint of another generation than the stream's is not this stream's position (a
    // half-deleted state): treated as missing, never read from.
    // A generation whose position is not recorded yet starts from nothing, for the reason it was started.
    if (checkpoint && (!g || checkpoint.generation === g.generation)) return checkpoint.token ? checkpoint : { ...checkpoint, fresh: freshStart(g?.reason) };
    if (!g) {
      if (this.generation !== undefined) throw new StreamStateLostError(this.stream, this.generation);
      const generation = await writer.startGeneration(undefined, 'new stream');
      metrics.generationsStarted.labels(this.stream, 'new stream').inc();
      const snapshots = this.o.snapshotMode !== undefined && this.o.snapshotMode !== 'never';
      logger.info({ stream: this.stream, generation }, snapshots ? 'new stream: generation started; snapshot first, then changes' : 'new stream: generation started, reading from now');
      return { generation, seq: 0, fresh: 'new stream' };
    }
    const missing = new CheckpointMissingError(this.stream, g.generation);
    if (this.o.onHistoryLost === 'fail') throw missing;
    const generation = await writer.startGeneration(g.generation, 'checkpoint missing');
    metrics.generationsStarted.labels(this.stream, 'checkpoint missing').inc();
    logger.error({ stream: this.stream, from: g.generation, generation }, this.o.snapshotMode === 'when_needed'
        ? `${missing.message}. SNAPSHOT_MODE=when_needed: a new generation snapshots the watched collections, then streams`
        : `${missing.message}. ON_HISTORY_LOST=latest: a new generation reads from now; events between the old checkpoint and now are NOT in the lake (re-snapshot: npm run snapshot -- <db.coll>)`);
    return { generation, seq: 0, fresh: 'checkpoint missing' };
  }

  async #term(term: LeaseTerm): Promise<void> {
    const writer = this.o.checkpoints.writer(term);
    try {
      await this.#read(term, writer);
    } catch (err) {
      if (!(err instanceof HistoryLostError || err instanceof CheckpointMissingError)) throw err;
      if (err instanceof HistoryLostError) this.o.metrics.historyLost.labels(this.stream).inc();
      if (this.o.onHistoryLost === 'fail') {
        this.state = 'history_lost';
        this.o.logger.fatal({ stream: this.stream }, err instanceof HistoryLostError ? HISTORY_LOST_FAIL : CHECKPOINT_MISSING_FAIL);
        return;
      }
      const generation = await writer.startGeneration(this.generation, 'history lost');
      this.generation = generation;
      this.o.metrics.generationsStarted.labels(this.stream, 'history lost').inc();
      this.o.logger.error(
        { stream: this.stream, generation },
        this.o.snapshotMode === 'when_needed'
          ? 'CHANGE STREAM HISTORY LOST: SNAPSHOT_MODE=when_needed, a new generation snapshots the watched collections, then streams. The changes between the checkpoint and now are NOT in the lake; the documents as they are now will be (docs/runbooks.md#history-lost).'
          : 'CHANGE STREAM HISTORY LOST: ON_HISTORY_LOST=latest, a new generation reads from now. Events between the checkpoint and now are NOT in the lake; re-snapshot the collections (npm run snapshot -- <db.coll>) to bring their documents up to date.',
      );
    }
  }

  async #read(term: LeaseTerm, writer: StreamWriter): Promise<void> {
    const { source, checkpoints, logger, metrics } = this.o;
    const signal = term.signal;
    const start = await this.#startingPoint(writer);
    const generation = start.generation;
    this.generation = generation;
    metrics.generation.labels(this.stream).set(generation);
    const records = await checkpoints.records(this.stream);
    // Open records (batches never handed on) stay: they hold the checkpoint back until the replay
    // re-opens the same batch (same first event, same id). Dropping them would let a completion in
    // the meantime move the checkpoint past their events, and a second crash would lose them.
    const cutter = new BatchCutter(this.o.cutter, generation, records);
    const handoff = new BatchHandoff({ writer, bodies: this.o.bodies, batches: this.o.batches, objects: this.o.objects, deadLetters: this.o.deadLetters });
    this.lastSeq = start.seq;
    this.checkpointSeq = start.seq;
    let lastToken: ResumeToken | undefined = start.token;
    let lastClusterTime = start.clusterTime;
    let from: ResumePoint | undefined = start.token ? { token: start.token } : undefined;
    this.state = 'reading';
    logger.info({ stream: this.stream, generation, from: start.token ? start.seq : 'now', replaying: records.length }, 'resuming');

    // Writes go one after another, in cut order (the term's write count relies on it); the audit
    // runs in the same chain so it never sees a batch between its cut and its job.
    let chain: Promise<void> = Promise.resolve();
    let failure: unknown;
    const enqueue = (work: () => Promise<void>) => {
      chain = chain.then(work).catch((err) => {
        failure ??= err;
        throw err;
      });
      return chain;
    };
    const apply = (actions: CutterAction[]) => (actions.length ? enqueue(() => handoff.apply(actions)) : chain);
    const audit = setInterval(() => {
      void enqueue(async () => {
        const lost = await handoff.vanished(await checkpoints.records(this.stream));
        if (lost.length) throw new HandoffLostError(lost.map((r) => r.id));
      }).catch(() => undefined);
    }, this.o.auditIntervalMs ?? 5000);
    const lag = metrics.changeStreamLag.labels(this.stream);
    try {
      while (!signal.aborted) {
        let invalidated = false;
        for await (const item of source.read(from, signal, from ? { caughtUp: records.length === 0 } : { fresh: start.fresh })) {
          if (signal.aborted || failure) break;
          if (item.type === 'change') {
            if (this.lastSeq - this.checkpointSeq >= this.o.bufferLimit) await this.#waitForRoom(signal);
            let envelope;
            try {
              envelope = toEnvelope(item.change, this.stream, generation, this.lastSeq + 1);
            } catch (err) {
              if (!(err instanceof MalformedChangeError)) throw err;
              // Skipped without a seq (the lake stays gap-free) and kept in the DLQ; a replay
              // meets it again and files the same letter under the same id.
              await this.#deadLetterChange(item.change, item.token, err.message);
              lastToken = item.token;
              continue;
            }
            this.lastSeq++;
            const line = jsonlLine(envelope);
            const actions = cutter.push({ envelope, line, token: item.token, tokenBefore: lastToken ?? item.token, clusterTimeBefore: lastClusterTime, bytes: cutSize(envelope, line) });
            // Most events only join an open batch: no promise to wait for (a per-event await was a
            // measurable share of the reader's CPU at tens of thousands of events per second).
            if (actions.length) await apply(actions);
            if (item.endOfRun) await apply(cutter.cutNamespace(namespaceOf(envelope)));
            lastToken = item.token;
            lastClusterTime = envelope.cluster_time;
            lag.set(Math.max(0, Date.now() / 1000 - clusterSeconds(envelope.cluster_time)));
          } else if (item.type === 'skipped') {
            // OVERSIZE_EVENTS=skip: dead-lettered with the reason and the key, no seq (the lake
            // stays gap-free); a replay files the same letter under the same id.
            await this.#deadLetterChange(skippedRecord(item), item.token, item.reason);
            lastToken = item.token;
          } else if (item.type === 'idle') {
            lastToken = item.token;
            if (item.clusterTime) {
              lastClusterTime = item.clusterTime;
              await apply(cutter.due(clusterSeconds(item.clusterTime)));
            }
            await chain;
            if (cutter.openBatches === 0 && (await writer.advanceIdle(generation, this.lastSeq + 1, item.token, lastClusterTime))) await source.checkpointed?.(item.token);
          } else if (item.type === 'snapshot-complete') {
            // SNAPSHOT_MODE=initial_only: hand on every open batch; the checkpoint reaches the last
            // row once the uploader has stored it, and nothing more is read.
            await apply(cutter.flush());
            await chain;
            this.state = 'snapshot_complete';
            logger.info({ stream: this.stream, rows: this.lastSeq }, 'snapshot handed on; SNAPSHOT_MODE=initial_only: reading stops here');
            // The lease is kept until the process stops (or loses it): a standby taking over would
            // only find the snapshot finished, and nobody holding it looks like an outage.
            await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
            break;
          } else {
            // invalidate: cut what is open, then continue after it with startAfter.
            await apply(cutter.flush());
            lastToken = item.token;
            from = { token: item.token, startAfter: true };
            invalidated = true;
            logger.warn({ stream: this.stream }, 'change stream invalidated; continuing with startAfter');
            break;
          }
        }
        if (!invalidated || failure) break;
      }
      await chain;
    } finally {
      clearInterval(audit);
      await chain.catch(() => undefined);
    }
    if (failure) throw failure;
    if (term.lost) throw term.signal.reason;
  }

  async #deadLetterChange(change: SourceChange | Record<string, unknown>, token: ResumeToken, reason: string): Promise<void> {
    let event: unknown;
    try {
      event = EJSON.serialize(change as unknown as Record<string, unknown>, { relaxed: false });
    } catch {
      event = inspect(change, { depth: 6 }); // a value EJSON cannot express: keep what can be shown
    }
    const data = { stream: this.stream, token, change: event };
    await deadLetter(this.o.deadLetters, {
      queue: CHANGE_EVENTS,
      jobId: jobIdFor(this.stream, JSON.stringify(token)),
      name: 'change',
      data,
      reason,
      attempts: 1,
      failedAt: new Date().toISOString(),
    });
    this.o.metrics.writeErrors.labels('read').inc();
    this.o.logger.error({ stream: this.stream, reason }, 'change event dead-lettered: it cannot be written to the lake (see docs/runbooks.md#dlq)');
  }

  /** Pauses reading while more than CHANNEL_BUFFER_SIZE events are read but not yet in S3. */
  async #waitForRoom(signal: AbortSignal): Promise<void> {
    for (;;) {
      const c = await this.o.checkpoints.load(this.stream);
      this.checkpointSeq = c && c.generation === this.generation ? c.seq : 0;
      if (this.lastSeq - this.checkpointSeq < this.o.bufferLimit || signal.aborted) return;
      await pause(50, signal);
    }
  }
}

/** A generation's recorded reason, as the fresh start a source may snapshot for. */
function freshStart(reason: string | undefined): FreshStart {
  return reason === 'history lost' || reason === 'checkpoint missing' ? reason : 'new stream';
}

/** What a dead letter keeps of a skipped event: where it was and which document, not its 16 MB. */
function skippedRecord(item: SkippedEvent): Record<string, unknown> {
  return { operationType: item.operationType, ns: item.namespace, documentKey: item.documentKey, clusterTime: item.clusterTime, bytes: item.bytes };
}

/** The messages of what an error was caused by (AggregateError's errors too): why the source gave up. */
function causes(err: Error): string[] {
  const out: string[] = [];
  const walk = (e: unknown, depth: number) => {
    if (!(e instanceof Error) || depth > 4 || out.length >= 6) return;
    out.push(`${e.name}: ${e.message}`);
    if (e instanceof AggregateError) for (const x of e.errors) walk(x, depth + 1);
    walk(e.cause, depth + 1);
  };
  walk(err.cause, 0);
  return out;
}
