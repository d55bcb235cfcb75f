import type { Logger } from '@runnel/telemetry';
import { HttpError } from '../../protocol/http-error';
import { parseBody, RunCreateSchema } from '../http/agent-request-schemas';
import type { RunService } from '../runs/run-service';
import type { CronRepository, DueDecision, StoredCron } from '../storage/cron-repository';
import { DuplicateRunError } from '../storage/run-repository';
import { NotFoundError, StorageError } from '../storage/storage-errors';
import type { ThreadRepository } from '../storage/thread-repository';
import type { RunQueue } from '../transport/run-queue';
import { nextRunDate } from './cron-schedule';

export interface CronSchedulerOptions {
  crons: CronRepository;
  /** Creates the runs (under the tick's idempotency key). */
  service: RunService;
  threads: ThreadRepository;
  queue: RunQueue;
  logger: Logger;
  /** How often this replica looks for due crons (1 s by default). */
  intervalMs?: number;
  /** Due crons taken per look at most (the rest wait for the next one). */
  batch?: number;
}

/** Run idempotency keys are kept this long: a tick is retried within seconds of its first try. */
const KEY_RETENTION_SECONDS = 86_400;
const PRUNE_EVERY_MS = 10 * 60_000;
/** A failing look (PostgreSQL down) is logged once, then at most this often. */
const FAILURE_LOG_EVERY_MS = 60_000;

/**
 * Fires due crons; one per replica, all replicas on the same PostgreSQL. Every `intervalMs` it
 * takes due crons one at a time (CronRepository.takeDue: `SELECT … WHERE enabled AND
 * next_run_date <= now() AND (end_time IS NULL OR end_time > now()) ORDER BY next_run_date FOR
 * UPDATE SKIP LOCKED LIMIT 1`, so two replicas never hold the same cron), creates its run through
 * RunService.create while the cron stays locked, and only then advances `next_run_date` (from
 * PostgreSQL's clock: the first time of the schedule after now, so missed ticks are not replayed
 * one by one) and commits.
 *
 * Delivery: exactly one run per tick. The run is created under the key `cron:<id>:<tick>`, recorded
 * in the run's own transaction (runnel_agent_run_keys, RunRepository's `idempotencyKey`), so a
 * tick's run is created at most once whatever happens; and the cron advances only after its run
 * exists, so it is created at least once:
 * - a replica that dies before the run is committed: nothing was created, its cron transaction rolls
 *   back, another replica fires the tick;
 * - one that dies after the run is committed (before or after queueing it) but before the cron's
 *   commit: the cron is due again for the others, whose create finds the key (DuplicateRunError)
 *   and queues that run again instead (a second job of a run is harmless: the run row's claim
 *   lets one execution through), then advances the cron.
 * A replica that is cut off rather than dead holds its cron until PostgreSQL ends its session (TCP
 * keepalive, or idle_in_transaction_session_timeout, 60 s): the tick is late, not lost or doubled.
 * Failures that are the run's (its thread or assistant is gone, the thread is busy under
 * multitask 'reject') skip the tick; others (PostgreSQL or Redis unavailable) leave the cron due,
 * to be fired on a later look.
 */
export class CronScheduler {
  readonly #interval: number;
  readonly #batch: number;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> | undefined;
  #running = false;
  #lastPrune = 0;
  #lastFailureLog = 0;
  #failing = false;

  constructor(private readonly o: CronSchedulerOptions) {
    this.#interval = o.intervalMs ?? 1_000;
    this.#batch = o.batch ?? 50;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#next();
  }

  /** Stops looking; resolves when the look under way (and the run it is creating) is done. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#current;
  }

  /** One look: fires every due cron (up to `batch`). */
  async #tick(): Promise<number> {
    let fired = 0;
    while (fired < this.#batch && this.#running) {
      const took = await this.o.crons.takeDue((cron, now) => this.#fire(cron, now));
      if (!took) break;
      fired++;
    }
    if (Date.now() - this.#lastPrune > PRUNE_EVERY_MS) {
      this.#lastPrune = Date.now();
      await this.o.crons.pruneRunKeys(KEY_RETENTION_SECONDS);
    }
    return fired;
  }

  #next(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#current = this.#tick()
        .then(() => {
          if (this.#failing) this.o.logger.info('cron scheduler: looking for due crons works again');
          this.#failing = false;
        })
        .catch((err: unknown) => this.#failed(err))
        .finally(() => {
          this.#current = undefined;
          this.#next();
        });
    }, this.#interval);
    this.#timer.unref();
  }

  #failed(err: unknown): void {
    const now = Date.now();
    if (this.#failing && now - this.#lastFailureLog < FAILURE_LOG_EVERY_MS) return;
    this.#failing = true;
    this.#lastFailureLog = now;
    this.o.logger.warn({ err: { message: (err as Error).message } }, 'cron scheduler: could not fire due crons; they stay due');
  }

  /** Creates the tick's run (the cron is locked meanwhile); returns what becomes of the cron. */
  async #fire(cron: StoredCron, now: Date): Promise<DueDecision> {
    const tick = cron.next_run_date ?? now.toISOString();
    const cronId = cron.cron_id;
    const decision: DueDecision = { next_run_date: this.#after(cron, now) };
    const stateless = cron.thread_id === null;
    const payload = cron.payload;
    try {
      const body = parseBody(RunCreateSchema, {
        ...payload,
        assistant_id: cron.assistant_id,
        metadata: { ...(payload.metadata as object | undefined), cron_id: cronId },
        // A thread cron's runs queue behind the thread's other runs unless its payload says otherwise.
        multitask_strategy: payload.multitask_strategy ?? (stateless ? undefined : 'enqueue'),
        on_completion: stateless ? (cron.on_run_completed ?? 'delete') : undefined,
      });
      const caller = cron.user_id === null ? undefined : { name: cron.user_id, scopes: cron.user_scopes };
      const run = await this.o.service.create(cron.thread_id ?? undefined, body, caller, {}, `cron:${cronId}:${tick}`);
      this.o.logger.info({ cronId, runId: run.run_id, threadId: run.thread_id, tick }, 'cron fired');
    } catch (err) {
      if (err instanceof DuplicateRunError) {
        // A replica created this tick's run and died before advancing the cron: queue it (again).
        await this.o.queue.add({ runId: err.runId, threadId: err.threadId });
        this.o.logger.info({ cronId, runId: err.runId, tick }, 'cron tick had its run already; queued it again');
        return decision;
      }
      if (!(err instanceof StorageError || err instanceof HttpError)) throw err;
      if (err instanceof NotFoundError && cron.thread_id !== null && (await this.o.threads.find(cron.thread_id)) === null) {
        this.o.logger.warn({ cronId, threadId: cron.thread_id }, 'cron deleted: its thread is gone');
        return null;
      }
      this.o.logger.warn({ cronId, tick, err: { message: err.message } }, 'cron tick skipped: its run could not be created');
    }
    return decision;
  }

  /** The cron's next run date after `now`; null (never due again) when its schedule cannot be read. */
  #after(cron: StoredCron, now: Date): Date | null {
    try {
      return nextRunDate(cron.schedule, now);
    } catch {
      this.o.logger.error({ cronId: cron.cron_id }, 'cron has a schedule that cannot be read: it will not run again');
      return null;
    }
  }
}
