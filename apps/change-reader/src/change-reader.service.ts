import { inspect } from 'node:util';
import type { Queue } from 'bullmq';
import { type CheckpointStore, FencedError, type ResumeToken, type StreamLease } from '@runnel/checkpoint';
import type { PipelineMetrics } from '@runnel/metrics';
import { jsonlLine } from '@runnel/lake/records';
import { EJSON } from 'bson';
import { type BatchJob, type BodyStore, CHANGE_EVENTS, deadLetter, jobIdFor } from '@runnel/queue';
import type { Logger } from '@runnel/telemetry';
import { type Batch, BatchCutter, type CutterAction, type CutterOptions } from './batching/batch-cutter';
import { clusterSeconds, MalformedChangeError, toEnvelope } from './change-envelope-mapper';
import { type ChangeSource, HistoryLostError, type ResumePoint, type SourceChange } from './sources/change-source';
import { pause } from './pause';

export interface ChangeReaderOptions {
  source: ChangeSource;
  checkpoints: CheckpointStore;
  lease: StreamLease;
  batches: Queue;
  /** Where batch bodies (JSONL) go; the job carries the key. */
  bodies: BodyStore;
  /** The dead-letter queue: change events that cannot be made into an envelope go there, with the reason. */
  deadLetters: Queue;
  cutter: CutterOptions;
  bufferLimit: number;
  leaseTtlMs: number;
  onHistoryLost: 'fail' | 'latest';
  metrics: PipelineMetrics;
  logger: Logger;
}

export type ReaderState = 'standby' | 'reading' | 'history_lost' | 'stopped';

/** Lease lost mid-read: stop at once, another replica reads now. */
class LeaseLostError extends Error {}

/**
 * change-reader's loop for one stream: hold the lease (or stand by), resume from the checkpoint,
 * cut batches, record them in the checkpoint store before handing them on, and keep idle streams'
 * checkpoints fresh with post-batch tokens.
 */
export class ChangeReaderService {
  state: ReaderState = 'standby';
  /** Last seq read, and the checkpoint seq as last seen: their difference is what is in flight. */
  lastSeq = 0;
  checkpointSeq = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: ChangeReaderOptions) {}

  get stream(): string {
    return this.o.source.stream;
  }

  /** Runs until `signal` aborts, or until history is lost with ON_HISTORY_LOST=fail. */
  async run(signal: AbortSignal): Promise<void> {
    const { lease, logger, metrics, leaseTtlMs } = this.o;
    while (!signal.aborted && this.state !== 'history_lost') {
      const fence = await lease.tryAcquire().catch((err) => {
        logger.warn({ err: { message: (err as Error).message } }, 'lease acquire failed');
        return undefined;
      });
      if (fence === undefined) {
        this.state = 'standby';
        metrics.leaseHolder.labels(this.stream).set(0);
        await pause(leaseTtlMs / 3, signal);
        continue;
      }
      metrics.leaseHolder.labels(this.stream).set(1);
      logger.info({ stream: this.stream, fence }, 'lease acquired; reading');
      try {
        await this.#readAsLeader(fence, signal);
      } catch (err) {
        if (err instanceof LeaseLostError || err instanceof FencedError) {
          logger.warn({ stream: this.stream }, 'lease lost; standing by');
        } else if (err instanceof HistoryLostError) {
          metrics.historyLost.labels(this.stream).inc();
          if (this.o.onHistoryLost === 'latest') {
            logger.error(
              { stream: this.stream },
              'CHANGE STREAM HISTORY LOST: ON_HISTORY_LOST=latest, restarting from now. Events between the checkpoint and now are NOT in the lake; backfill them from a snapshot.',
            );
            await this.o.checkpoints.reset(this.stream);
          } else {
            this.state = 'history_lost';
            logger.fatal(
              { stream: this.stream },
              'CHANGE STREAM HISTORY LOST: the checkpoint is older than the oplog. Reading stopped (ON_HISTORY_LOST=fail). To continue: backfill the lake from a snapshot, then reset the checkpoint (redis DEL the stream\'s ckpt keys) or restart with ON_HISTORY_LOST=latest; consider a larger oplog.',
            );
          }
        } else if (!signal.aborted) {
          logger.error({ err }, 'reader failed; retrying after a pause');
          await pause(1000, signal);
        }
      } finally {
        metrics.leaseHolder.labels(this.stream).set(0);
        await lease.release().catch(() => undefined);
      }
    }
    if (this.state !== 'history_lost') this.state = 'stopped';
  }

  async #readAsLeader(fence: number, outer: AbortSignal): Promise<void> {
    const { source, checkpoints, lease, logger, metrics } = this.o;
    const ac = new AbortController();
    const stop = () => ac.abort();
    outer.addEventListener('abort', stop, { once: true });
    let leaseLost = false;
    const renewal = setInterval(() => {
      lease.renew().then(
        (ok) => {
          if (!ok) {
            leaseLost = true;
            ac.abort();
          }
        },
        () => undefined,
      );
    }, this.o.leaseTtlMs / 3);

    const checkpoint = await checkpoints.load(this.stream);
    const records = await checkpoints.records(this.stream);
    // Open records (batches never handed on) stay: they hold the checkpoint back until the replay
    // re-opens the same batch (same first event, same id). Dropping them would let a completion in
    // the meantime move the checkpoint past their events, and a second crash would lose them.
    const cutter = new BatchCutter(this.o.cutter, records);
    this.#chain = Promise.resolve(); // a term starts clean: a FencedError from the last one is done with
    this.lastSeq = checkpoint?.seq ?? 0;
    this.checkpointSeq = this.lastSeq;
    let lastToken: ResumeToken | undefined = checkpoint?.token;
    let lastClusterTime = checkpoint?.clusterTime;
    let from: ResumePoint | undefined = checkpoint ? { token: checkpoint.token } : undefined;
    this.state = 'reading';
    logger.info({ stream: this.stream, from: checkpoint?.seq ?? 'now', replaying: records.length }, 'resuming');

    const apply = (actions: CutterAction[]) => {
      if (actions.length) this.#chain = this.#chain.then(() => this.#apply(actions, fence));
      return this.#chain;
    };
    const lag = metrics.changeStreamLag.labels(this.stream);
    const tick = setInterval(() => void apply(cutter.due(Date.now())).catch(() => ac.abort()), Math.min(250, Math.max(10, this.o.cutter.timeoutMs / 4)));
    try {
      while (!ac.signal.aborted) {
        let invalidated = false;
        for await (const item of source.read(from, ac.signal)) {
          if (ac.signal.aborted) break;
          if (item.type === 'change') {
            if (this.lastSeq - this.checkpointSeq >= this.o.bufferLimit) await this.#waitForRoom(ac.signal);
            let envelope;
            try {
              envelope = toEnvelope(item.change, this.stream, this.lastSeq + 1);
            } catch (err) {
              if (!(err instanceof MalformedChangeError)) throw err;
              // Skipped without a seq (the lake stays gap-free) and kept in the DLQ; a replay
              // meets it again and files the same letter under the same id.
              await this.#deadLetterChange(item.change, item.token, err);
              lastToken = item.token;
              continue;
            }
            this.lastSeq++;
            const line = jsonlLine(envelope);
            const now = Date.now();
            const actions = cutter.push({ envelope, line, token: item.token, tokenBefore: lastToken ?? item.token, clusterTimeBefore: lastClusterTime, bytes: line.length }, now);
            // Most events only join an open batch: no promise to wait for (a per-event await was a
            // measurable share of the reader's CPU at tens of thousands of events per second).
            if (actions.length) await apply(actions);
            lastToken = item.token;
            lastClusterTime = envelope.cluster_time;
            lag.set(Math.max(0, now / 1000 - clusterSeconds(envelope.cluster_time)));
          } else if (item.type === 'idle') {
            lastToken = item.token;
            if (item.clusterTime) lastClusterTime = item.clusterTime;
            await this.#chain;
            if (cutter.openBatches === 0) await checkpoints.advanceIdle(this.stream, this.lastSeq + 1, item.token, lastClusterTime, fence);
          } else {
            // invalidate: cut what is open, then continue after it with startAfter.
            await apply(cutter.due(Number.POSITIVE_INFINITY));
            lastToken = item.token;
            from = { token: item.token, startAfter: true };
            invalidated = true;
            logger.warn({ stream: this.stream }, 'change stream invalidated; continuing with startAfter');
            break;
          }
        }
        if (!invalidated) break;
      }
      await this.#chain;
    } finally {
      clearInterval(tick);
      clearInterval(renewal);
      outer.removeEventListener('abort', stop);
    }
    if (leaseLost) throw new LeaseLostError();
  }

  async #deadLetterChange(change: SourceChange, token: ResumeToken, err: MalformedChangeError): Promise<void> {
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
      reason: err.message,
      attempts: 1,
      failedAt: new Date().toISOString(),
    });
    this.o.metrics.writeErrors.labels('read').inc();
    this.o.logger.error({ stream: this.stream, reason: err.message }, 'change event dead-lettered: it cannot be written to the lake (see docs/runbooks.md#dlq)');
  }

  /** Pauses reading while more than CHANNEL_BUFFER_SIZE events are read but not yet in S3. */
  async #waitForRoom(signal: AbortSignal): Promise<void> {
    for (;;) {
      const c = await this.o.checkpoints.load(this.stream);
      this.checkpointSeq = c?.seq ?? 0;
      if (this.lastSeq - this.checkpointSeq < this.o.bufferLimit || signal.aborted) return;
      await pause(50, signal);
    }
  }

  async #apply(actions: CutterAction[], fence: number): Promise<void> {
    const { checkpoints, batches, bodies } = this.o;
    for (const a of actions) {
      const b = a.batch;
      if (a.type === 'open') {
        if (!b.replayed) await checkpoints.open(this.stream, { collection: b.collection, seqStart: b.seqStart, tokenBefore: b.tokenBefore, clusterTimeBefore: b.clusterTimeBefore }, fence);
        continue;
      }
      // Record the cut before handing the batch on: a crash in between replays the same batch
      // under the same job id, never a differently cut one.
      if (!b.replayed) await checkpoints.cut(this.stream, b.id, { seqEnd: b.seqEnd, token: b.token, clusterTime: b.clusterTime }, fence);
      // Body first: a job is never seen without its body. A crash in between leaves a body that
      // the replay overwrites with the same bytes (or its TTL collects).
      const jobId = jobIdFor(this.stream, b.id);
      const bodyKey = await bodies.putBatch(jobId, Buffer.from(b.lines.join(''), 'utf8'));
      // removeOnComplete: a kept job per batch would grow Redis with the stream for ever. The job id
      // still deduplicates while the job waits or runs; a batch replayed after its job completed is
      // recognised by batch-writer (the object job with the same id has completed) and dropped.
      // Transient encode failures are retried (backoff with jitter) before a batch is dead-lettered.
      await batches.add('batch', toJob(this.stream, b, bodyKey), {
        jobId,
        removeOnComplete: true,
        attempts: 5,
        backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
      });
    }
  }
}

function toJob(stream: string, b: Batch, bodyKey: string): BatchJob {
  return {
    v: 2,
    stream,
    batchId: b.id,
    collection: b.collection,
    seqStart: b.seqStart,
    seqEnd: b.seqEnd,
    partition: b.partition,
    bodyKey,
    count: b.lines.length,
    operations: b.operations,
    resumeToken: b.token,
  };
}
