import type { Queue } from 'bullmq';
import type { BatchRecord, StreamWriter } from '@runnel/checkpoint';
import { type BatchJobV3, type BodyStore, jobIdFor, QUEUES } from '@runnel/queue';
import type { Batch, CutterAction } from './batch-cutter';

export interface BatchHandoffOptions {
  /** Fenced checkpoint writes of the reader's current lease term. */
  writer: StreamWriter;
  bodies: BodyStore;
  batches: Queue;
  /** Read only: to see whether a batch's object job exists (vanished). */
  objects: Queue;
  /** Read only: a dead-lettered batch is waiting for an operator, not lost. */
  deadLetters: Queue;
}

/**
 * How the reader hands a batch on: the write order the delivery guarantee rests on, in one place.
 *
 *   1. open   — the batch's first event is recorded (its events now hold the checkpoint back);
 *   2. cut    — its last event is recorded before anything else sees it, so a crash after this
 *               point replays the same batch under the same id, never a differently cut one;
 *   3. body   — the JSONL lines are stored (SET NX: the first body stays);
 *   4. job    — the batch job, id derived from the batch: a job is never seen without its body,
 *               and handing the same batch on twice is a no-op while BullMQ knows the job.
 *
 * A replayed batch (rebuilt from a cut record) skips 1–2 and redoes 3–4, which is how a batch whose
 * body or job Redis lost is handed on again. Each step is awaited before the next: the order is
 * the contract (batch-handoff.spec.ts checks it).
 */
export class BatchHandoff {
  /** Batches handed on in this term: only these can have vanished (the rest the replay has yet to reach). */
  readonly #handedOn = new Set<string>();

  constructor(private readonly o: BatchHandoffOptions) {}

  get stream(): string {
    return this.o.writer.stream;
  }

  async apply(actions: CutterAction[]): Promise<void> {
    for (const a of actions) {
      if (a.type === 'open') await this.open(a.batch);
      else await this.handOn(a.batch);
    }
  }

  async open(b: Batch): Promise<void> {
    if (b.replayed) return;
    await this.o.writer.open(b.generation, { id: b.id, database: b.database, collection: b.collection, seqStart: b.seqStart, tokenBefore: b.tokenBefore, clusterTimeBefore: b.clusterTimeBefore });
  }

  async handOn(b: Batch): Promise<void> {
    if (!b.replayed) await this.o.writer.cut(b.generation, b.id, { seqEnd: b.seqEnd, token: b.token, clusterTime: b.clusterTime });
    const jobId = jobIdFor(this.stream, b.id);
    const bodyKey = await this.o.bodies.putBatch(jobId, Buffer.from(b.lines.join(''), 'utf8'));
    // removeOnComplete: a kept job per batch would grow Redis with the stream for ever. The job id
    // still deduplicates while the job waits or runs; a batch replayed after its job completed is
    // recognised by batch-writer (the object job with the same id has completed) and dropped.
    // Transient encode failures are retried (backoff with jitter) before a batch is dead-lettered.
    await this.o.batches.add('batch', toJob(this.stream, b, bodyKey), {
      jobId,
      removeOnComplete: true,
      attempts: 5,
      backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
    });
    this.#handedOn.add(b.id);
  }

  /**
   * The batches this term handed on that nothing carries any more: still cut, yet no batch job, no
   * object job, no dead letter. That is Redis having lost them (a restart without fsync, a failover
   * to a lagging replica) or a writer that found the body gone; the reader then replays from the
   * checkpoint, which hands each of them on again. (A batch job is removed on completion only after
   * its object job exists, and the uploader completes the record before its object job completes,
   * so a batch in flight always has one of them.) Must not run between a cut and its job: the
   * reader runs it in its write chain.
   */
  async vanished(records: BatchRecord[]): Promise<BatchRecord[]> {
    const out: BatchRecord[] = [];
    for (const r of records) {
      if (r.state !== 'cut' || !this.#handedOn.has(r.id)) continue;
      const jobId = jobIdFor(this.stream, r.id);
      if (await this.o.batches.getJob(jobId)) continue;
      if (await this.o.objects.getJob(jobId)) continue;
      if (await this.o.deadLetters.getJob(`${QUEUES.batches}-${jobId}`)) continue;
      if (await this.o.deadLetters.getJob(`${QUEUES.objects}-${jobId}`)) continue;
      out.push(r);
    }
    return out;
  }
}

function toJob(stream: string, b: Batch, bodyKey: string): BatchJobV3 {
  return {
    v: 3,
    stream,
    generation: b.generation,
    batchId: b.id,
    database: b.database,
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
