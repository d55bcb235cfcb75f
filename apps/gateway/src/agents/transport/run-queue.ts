import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';

/** What a queued job carries: the run is read from PostgreSQL by the worker that takes it. */
export interface RunJob {
  runId: string;
  threadId: string;
}

export const RUN_QUEUE = 'agent-runs';

/**
 * The queue of runs to execute, on Redis through BullMQ, shared by every gateway replica: whichever
 * replica has a free worker slot takes the next run. A job is only a pointer (the run id); the
 * run's truth (status, kwargs) is its row, so a job that runs twice (a worker lost its lock) is
 * refused by the row's claim, not by the queue.
 */
export class RunQueue {
  readonly queue: Queue<RunJob>;

  constructor(connection: Redis | Cluster, prefix: string) {
    this.queue = new Queue<RunJob>(RUN_QUEUE, {
      connection,
      prefix,
      defaultJobOptions: {
        // A job comes back after a worker dies (stalled) or hands it back at shutdown; the run's
        // own attempt limit (the worker's) decides when it is given up, not BullMQ's count.
        attempts: 1_000,
        backoff: { type: 'fixed', delay: 0 },
        removeOnComplete: true,
        removeOnFail: 1_000,
      },
    });
  }

  /** Queues a run; `delayMs` for `after_seconds`. */
  async add(job: RunJob, delayMs = 0): Promise<void> {
    await this.queue.add('run', job, { delay: delayMs > 0 ? delayMs : undefined });
  }

  /** Runs waiting to start (queued, delayed), for the queue depth metric. */
  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'prioritized');
    return (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
