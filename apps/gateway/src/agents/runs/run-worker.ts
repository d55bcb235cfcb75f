import { SpanStatusCode, trace } from '@opentelemetry/api';
import { type Job, Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '@runnel/telemetry';
import type { Run, RunStatus } from '../agent-types';
import { executeRun, type CheckpointPayload } from '../execution/run-stream';
import { serializeError, serializeEvent } from '../execution/serialize-event';
import { threadUpdateAfterRun, type ThreadUpdate } from '../execution/thread-state';
import type { GraphLoader } from '../graphs/graph-loader';
import type { RunRepository } from '../storage/run-repository';
import type { ThreadRepository } from '../storage/thread-repository';
import { RunCancelledError, type RunCancellation } from '../transport/run-cancellation';
import type { RunEventLog } from '../transport/run-event-log';
import { RUN_QUEUE, type RunJob, type RunQueue } from '../transport/run-queue';
import type { WebhookOutcome } from './webhook-sender';

/**
 * The abort reason of a run stopped because its replica is shutting down and the drain window
 * ran out: the run goes back to the queue (another replica resumes it from its last checkpoint)
 * instead of failing.
 */
export class RunHandedBackError extends Error {
  constructor() {
    super('the replica is shutting down: the run goes back to the queue');
    this.name = 'RunHandedBackError';
  }
}

const tracer = trace.getTracer('runnel-gateway');

/** How soon a run that was not due yet (by the database's clock) is looked at again. */
const NOT_DUE_RETRY_MS = 250;

export interface RunWorkerOptions {
  connection: Redis | Cluster;
  prefix: string;
  /** AGENT_MAX_CONCURRENT_RUNS: runs this replica executes at once. */
  concurrency: number;
  /** How long a worker's hold on a run lasts without renewal: a replica killed -9 loses its runs to the others after this. */
  lockMs: number;
  /** A run that has started this many times (crashes, hand-backs) is failed instead of started again. */
  maxAttempts: number;
  /** Recorded on the run while this replica executes it (host:pid). */
  workerId: string;
  runs: RunRepository;
  threads: ThreadRepository;
  graphs: GraphLoader;
  queue: RunQueue;
  events: RunEventLog;
  cancellation: RunCancellation;
  logger: Logger;
  /** Run lifecycle hooks for metrics: `started`, and `finished` with the status and seconds. */
  onStarted?: (run: Run) => void;
  onFinished?: (run: Run, status: RunStatus, seconds: number) => void;
  onWebhook?: (run: Run, status: RunStatus, outcome: WebhookOutcome) => void;
}

/**
 * Executes queued runs on this replica, one BullMQ job per run. The failure rules:
 * - The row decides, not the job: a job runs only a run it can claim (pending → running, and only
 *   when no other run of its thread is running: one run per thread, across replicas). A run that
 *   must wait for another run of its thread is queued again when that one finishes.
 * - A replica killed mid-run: its job's lock expires (lockMs), BullMQ hands the job to another
 *   replica, which takes the run over (attempt n+1) and continues from the thread's last checkpoint
 *   (LangGraph's own rule: a run whose id is the last checkpoint's resumes; RunStampedSaver stamps it); its stream goes on in the same log
 *   after a new `metadata {attempt}` event. After maxAttempts starts the run ends `error`.
 * - SIGTERM: running runs get the drain window; those still running are aborted with
 *   RunHandedBackError and go back to the queue (the same takeover).
 * - Cancel: the graph is aborted within its step (RunCancelledError); the run and the thread end
 *   `error` as the reference's do (`rollback`: the run and its checkpoints are deleted instead).
 */
export class RunWorker {
  readonly #worker: Worker<RunJob>;
  readonly #active = new Map<string, AbortController>();
  #handingBack = false;

  constructor(private readonly o: RunWorkerOptions) {
    this.#worker = new Worker<RunJob>(RUN_QUEUE, (job) => this.#process(job), {
      connection: o.connection,
      prefix: o.prefix,
      concurrency: o.concurrency,
      lockDuration: o.lockMs,
      stalledInterval: Math.max(1_000, Math.floor(o.lockMs / 2)),
      // Our own attempt count (the run row's, maxAttempts) ends a run that keeps dying; BullMQ's
      // stalled limit would fail the job and leave its run 'running' with nobody to finish it.
      maxStalledCount: 1_000_000,
      autorun: false,
    });
    this.#worker.on('error', (err) => o.logger.error({ err }, 'agent run worker: queue error'));
  }

  start(): void {
    void this.#worker.run().catch((err) => this.o.logger.error({ err }, 'agent run worker stopped'));
  }

  get running(): number {
    return this.#active.size;
  }

  /**
   * Stops taking runs; waits up to `graceMs` for running ones, then hands the rest back to the
   * queue (aborted with RunHandedBackError) and closes.
   */
  async drain(graceMs: number): Promise<void> {
    const closing = this.#worker.close();
    const timer = setTimeout(() => {
      this.#handingBack = true;
      for (const c of this.#active.values()) c.abort(new RunHandedBackError());
    }, graceMs);
    try {
      await closing;
    } finally {
      clearTimeout(timer);
    }
  }

  async #process(job: Job<RunJob>): Promise<void> {
    const { runId } = job.data;
    const attempt = Math.max(1, job.attemptsStarted);
    if (attempt > 1) {
      // BullMQ gave this job to us again: the replica that held it died or handed it back. Its row
      // may still say running; it is ours now (BullMQ lets one worker at a time hold a job).
      await this.o.runs.requeueIfRunning(runId);
    }
    const { result: claim, run } = await this.o.runs.claimRun(runId, this.o.workerId);
    if (claim === 'wait') {
      // Another run of the thread is running (its finish queues this one next), or this one is not
      // due yet by PostgreSQL's clock (a delayed job can fire a little early): then look again soon.
      const inflight = await this.o.runs.inflight(job.data.threadId);
      if (!inflight.some((r) => r.status === 'running')) await this.o.queue.add(job.data, NOT_DUE_RETRY_MS);
      return;
    }
    if (claim !== 'claimed' || !run) return;
    if (attempt > this.o.maxAttempts) {
      await this.#finish(run, 'error', new Error(`Run ${runId} exceeded max attempts (${this.o.maxAttempts})`), undefined, performance.now());
      return;
    }
    const graphId = String(run.kwargs.config.configurable?.graph_id ?? '');
    // One span per execution of a run; the worker's log lines inside it carry its trace id.
    await tracer.startActiveSpan(`agent run ${graphId}`, { attributes: { 'runnel.run_id': runId, 'runnel.thread_id': run.thread_id, 'runnel.graph_id': graphId, 'runnel.attempt': attempt } }, async (span) => {
      try {
        const status = await this.#execute(run, graphId, attempt);
        span.setAttribute('runnel.run_status', status);
        if (status === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** Executes a claimed run to its end; returns its final status, or throws to hand it back to the queue. */
  async #execute(run: Run, graphId: string, attempt: number): Promise<RunStatus> {
    const runId = run.run_id;
    const controller = new AbortController();
    this.#active.set(runId, controller);
    const unwatch = await this.o.cancellation.watch(runId, controller);
    const started = performance.now();
    this.o.onStarted?.(run);
    this.o.logger.info({ runId, threadId: run.thread_id, graphId, attempt }, 'run started');
    let graph: Awaited<ReturnType<GraphLoader['load']>> | undefined;
    // The root graph's last checkpoint (executeRun always streams `debug`, which carries them).
    let last: CheckpointPayload | undefined;
    // A stateless run with a webhook: the root's last state as streamed, as it makes no checkpoints
    // (the graph runs without a checkpointer). Other runs take their last checkpoint's values.
    let lastValues: { values: unknown } | undefined;
    const onValues = run.kwargs.webhook && run.kwargs.temporary ? (values: unknown) => void (lastValues = { values }) : undefined;
    try {
      graph = await this.o.graphs.load(graphId, run.kwargs.config, { stateless: run.kwargs.temporary });
      // run_id in the config's metadata: LangGraph resumes a run whose id matches the last
      // checkpoint's (RunStampedSaver records it there), so a retry continues from its last
      // checkpoint instead of applying its input again.
      const config = { ...run.kwargs.config, metadata: { ...run.kwargs.config.metadata, run_id: runId } };
      const toRun: Run = { ...run, kwargs: { ...run.kwargs, config } };
      const onCheckpoint = (checkpoint: CheckpointPayload) => {
        if (checkpoint.checkpoint?.checkpoint_ns === '') last = checkpoint;
      };
      for await (const event of executeRun(toRun, { graph, attempt, signal: controller.signal, onCheckpoint, onValues })) {
        await this.o.events.append(runId, event.event, serializeEvent(event));
      }
      await this.#finish(run, 'success', undefined, graph, started, last, lastValues);
      return 'success';
    } catch (err) {
      const reason = controller.signal.aborted ? controller.signal.reason : err;
      if (reason instanceof RunHandedBackError || this.#handingBack) {
        this.o.logger.warn({ runId, threadId: run.thread_id, attempt }, 'run handed back to the queue (shutdown)');
        throw reason;
      }
      if (reason instanceof RunCancelledError && reason.action === 'rollback') {
        await this.o.runs.delete(runId, run.thread_id).catch(() => undefined);
        this.o.onFinished?.(run, 'interrupted', (performance.now() - started) / 1000);
        await this.o.events.end(runId);
        await this.#next(run.thread_id);
        return 'interrupted';
      }
      await this.o.events.append(runId, 'error', JSON.stringify(serializeError(reason))).catch(() => undefined);
      if (!(reason instanceof RunCancelledError)) this.o.logger.warn({ err: reason, runId, threadId: run.thread_id }, 'run failed');
      await this.#finish(run, 'error', reason, graph, started, last, lastValues);
      return 'error';
    } finally {
      unwatch();
      this.#active.delete(runId);
    }
  }

  async #finish(
    run: Run,
    status: RunStatus,
    error: unknown,
    graph: Awaited<ReturnType<GraphLoader['load']>> | undefined,
    started: number,
    last?: CheckpointPayload,
    lastValues?: { values: unknown },
  ): Promise<void> {
    let update: ThreadUpdate | undefined;
    if (!run.kwargs.temporary && status === 'success' && last && last.next.length === 0 && last.tasks.length === 0) {
      // The run ended on a checkpoint with nothing left to run: the thread's state is that
      // checkpoint's values, with no interrupts, as getState would read them back (no second read).
      update = { status: 'idle', values: last.values, interrupts: {} };
    } else if (!run.kwargs.temporary && graph) {
      update = await threadUpdateAfterRun(graph, { configurable: { thread_id: run.thread_id } }, status === 'error' ? (error ?? new Error('run failed')) : undefined).catch(() => undefined);
    }
    const next = await this.o.runs.finish(run.run_id, status, update ?? { status: status === 'error' ? 'error' : 'idle' });
    // Counted before the stream ends: a client that saw the end and then scrapes sees the run.
    this.o.onFinished?.(run, status, (performance.now() - started) / 1000);
    await this.o.events.end(run.run_id);
    this.o.logger.info({ runId: run.run_id, threadId: run.thread_id, status }, 'run finished');
    if (run.kwargs.temporary) await this.o.threads.delete(run.thread_id).catch(() => undefined);
    if (next) await this.o.queue.add({ runId: next, threadId: run.thread_id });
    // Hands it on and returns: the sender delivers in the background and logs its own failures.
    if (run.kwargs.webhook) this.o.onWebhook?.(run, status, { values: lastValues ? lastValues.values : (last?.values ?? update?.values), ...(status === 'error' ? { error: serializeError(error ?? new Error('run failed')).message } : {}) });
  }

  async #next(threadId: string): Promise<void> {
    const next = await this.o.runs.nextPending(threadId);
    if (next) await this.o.queue.add({ runId: next, threadId });
  }
}
