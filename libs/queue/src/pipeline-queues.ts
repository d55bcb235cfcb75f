import { createHash } from 'node:crypto';
import { type JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from './redis-connection';
import { CHANGE_EVENTS, type DeadLetterSource, type QueueName, QUEUES } from './queue-names';

/**
 * Job ids derive from the batch (stream + batch id), so handing the same batch on twice (a reader
 * replaying after a crash) is a no-op while the first job is still known to BullMQ. BullMQ ids may
 * not contain ':', hence the hash.
 */
export function jobIdFor(stream: string, batchId: string): string {
  return createHash('sha1').update(`${stream}\u0000${batchId}`).digest('hex');
}

/** Retries with exponential backoff and jitter; completed jobs kept a while so ids keep deduplicating. */
export function defaultJobOptions(attempts: number, delayMs: number): JobsOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: delayMs, jitter: 0.5 },
    removeOnComplete: { age: 24 * 3600, count: 100_000 },
    removeOnFail: false,
  };
}

export function createQueue(name: QueueName, connection: RedisClient, prefix: string, defaults?: JobsOptions): Queue {
  return new Queue(name, { connection, prefix, defaultJobOptions: defaults });
}

/** What a dead-lettered job carries: the original queue and payload, and why it failed. */
export interface DeadLetter {
  queue: DeadLetterSource;
  jobId: string;
  name: string;
  data: unknown;
  reason: string;
  attempts: number;
  failedAt: string;
}

/** Moves a failed job's payload to the dead-letter queue, keyed by its id so repeated failures don't pile up. */
export async function deadLetter(dlq: Queue, letter: DeadLetter): Promise<void> {
  await dlq.add('dead-letter', letter, { jobId: `${letter.queue}-${letter.jobId}`, removeOnComplete: false, removeOnFail: false });
}

/**
 * Puts every dead-lettered job back on its original queue with its original id (the documented
 * `npm run dlq:replay`), and removes it from the dead-letter queue. Returns how many were replayed.
 * Letters for change events the reader could not read (CHANGE_EVENTS) have no queue to go back
 * to and stay.
 */
export async function replayDeadLetters(connection: RedisClient, prefix: string): Promise<number> {
  const dlq = new Queue(QUEUES.deadLetter, { connection, prefix });
  const targets = new Map<string, Queue>();
  let replayed = 0;
  try {
    for (const job of await dlq.getJobs(['waiting', 'delayed', 'prioritized'])) {
      const letter = job.data as DeadLetter;
      if (letter.queue === CHANGE_EVENTS) continue;
      let target = targets.get(letter.queue);
      if (!target) targets.set(letter.queue, (target = new Queue(letter.queue, { connection, prefix })));
      // A failed job with this id may still exist in the original queue; retry it there, or add anew.
      const existing = await target.getJob(letter.jobId);
      if (existing && (await existing.isFailed())) await existing.retry('failed');
      else if (!existing) await target.add(letter.name, letter.data, { jobId: letter.jobId });
      await job.remove();
      replayed++;
    }
  } finally {
    await Promise.all([...targets.values()].map((q) => q.close()));
    await dlq.close();
  }
  return replayed;
}

/**
 * Sends a worker's jobs that failed for good (attempts exhausted, or UnrecoverableError) to the
 * dead-letter queue with their reason. The checkpoint never passes them: their batch is never
 * completed, so the pipeline holds its place until the DLQ is replayed.
 */
export function deadLetterOnFinalFailure(
  worker: import('bullmq').Worker,
  queue: QueueName,
  dlq: Queue,
  onDeadLetter: (letter: DeadLetter) => void,
): void {
  worker.on('failed', (job, err) => {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= attempts;
    if (!final) return;
    const letter: DeadLetter = {
      queue,
      jobId: job.id ?? '',
      name: job.name,
      data: job.data,
      reason: err.message,
      attempts: job.attemptsMade,
      failedAt: new Date().toISOString(),
    };
    void deadLetter(dlq, letter).then(() => onDeadLetter(letter));
  });
}
