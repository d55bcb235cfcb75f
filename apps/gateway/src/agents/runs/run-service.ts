import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '@runnel/telemetry';
import { HttpError } from '../../protocol/http-error';
import type { AgentRunnableConfig, MultitaskStrategy, Run, RunKwargs, StreamMode } from '../agent-types';
import type { SseEvent } from '../http/agent-reply';
import type { RunCreate } from '../http/agent-request-schemas';
import type { AssistantRepository } from '../storage/assistant-repository';
import type { RunRepository } from '../storage/run-repository';
import type { ThreadRepository } from '../storage/thread-repository';
import type { GraphLoader } from '../graphs/graph-loader';
import type { CancelAction, RunCancellation } from '../transport/run-cancellation';
import type { RunEventLog } from '../transport/run-event-log';
import type { RunQueue } from '../transport/run-queue';

export interface RunServiceDeps {
  assistants: AssistantRepository;
  threads: ThreadRepository;
  runs: RunRepository;
  graphs: GraphLoader;
  queue: RunQueue;
  events: RunEventLog;
  cancellation: RunCancellation;
  logger: Logger;
}

/** Who created a run, passed to the graph as the reference passes its auth user. */
export interface RunCaller {
  name: string;
  scopes: readonly string[];
}

/** Request headers a run's config never carries: credentials. */
const HIDDEN_HEADERS = new Set(['x-api-key', 'x-tenant-id', 'x-service-key', 'authorization', 'cookie']);

/** Statuses of a run still to come: while a run has one, its log is waited for. */
const ACTIVE = new Set(['pending', 'running']);

/**
 * Creating, following and cancelling runs: the API side of the run protocol. A run is a row
 * (PostgreSQL: its status and what it was asked), a job (the queue: which replica executes it) and
 * a log (Redis: its output). Creation writes the row first (the multitask rule is decided there,
 * in one transaction), then queues it; the worker (run-worker.ts) executes it and ends its log;
 * any replica follows the log.
 */
export class RunService {
  constructor(private readonly d: RunServiceDeps) {}

  /**
   * A new run on `threadId`, or on a new temporary thread when `threadId` is undefined (a stateless
   * run, deleted when it ends unless `on_completion: 'keep'`).
   * `idempotencyKey`: recorded in the run's own transaction, so a second create under it finds
   * this run (DuplicateRunError) instead of making another (a cron tick's run).
   * @throws NotFoundError (assistant, thread, graph), ThreadBusyError (reject), HttpError 422
   */
  async create(threadId: string | undefined, body: RunCreate, caller: RunCaller | undefined, headers: IncomingHttpHeaders, idempotencyKey?: string): Promise<Run> {
    const assistantId = this.d.graphs.assistantId(body.assistant_id);
    const assistant = await this.d.assistants.get(assistantId);
    if (!this.d.graphs.has(assistant.graph_id)) throw new HttpError(404, `Graph "${assistant.graph_id}" of assistant ${assistant.assistant_id} is not served here`);
    const stateless = threadId === undefined;
    const temporary = stateless && (body.on_completion ?? 'delete') === 'delete';
    const modes = body.stream_mode === undefined ? [] : Array.isArray(body.stream_mode) ? body.stream_mode : [body.stream_mode];
    const streamMode = (modes.length ? modes : ['values']) as StreamMode[];
    const multitaskStrategy: MultitaskStrategy = body.multitask_strategy ?? 'reject';
    const kwargs: RunKwargs = {
      input: body.input,
      command: body.command ?? undefined,
      stream_mode: streamMode,
      interrupt_before: body.interrupt_before ?? undefined,
      interrupt_after: body.interrupt_after ?? undefined,
      // The request's part; the repository merges it over the assistant's and the thread's.
      config: requestConfig(body, headers, caller),
      context: body.context,
      subgraphs: body.stream_subgraphs ?? false,
      resumable: body.stream_resumable ?? false,
      temporary,
      webhook: body.webhook ?? undefined,
      durability: body.durability ?? undefined,
    };
    const { run, inflight } = await this.d.runs.create(
      { thread_id: threadId, assistant, kwargs, metadata: body.metadata ?? {}, user_id: caller?.name },
      { multitaskStrategy, ifNotExists: body.if_not_exists ?? 'reject', afterSeconds: body.after_seconds ?? undefined, idempotencyKey },
    );
    threadId = run.thread_id;
    if ((multitaskStrategy === 'interrupt' || multitaskStrategy === 'rollback') && inflight.length > 0) {
      await this.cancel(threadId, inflight.map((r) => r.run_id), multitaskStrategy).catch((err) =>
        this.d.logger.warn({ err, runIds: inflight.map((r) => r.run_id), threadId }, 'could not cancel the runs a new run replaces; they may have ended'),
      );
    }
    await this.d.queue.add({ runId: run.run_id, threadId }, (body.after_seconds ?? 0) * 1000);
    this.d.logger.info({ runId: run.run_id, threadId, graphId: assistant.graph_id, multitaskStrategy }, 'run created');
    return run;
  }

  /**
   * A run's events from the start (`after` '0-0') or after a given event id, until the run ends
   * or `signal` aborts. Ids are sent only for resumable runs, as the reference does.
   */
  async *events(run: Run, after: string, signal: AbortSignal): AsyncGenerator<SseEvent> {
    for await (const e of this.#read(run, after, signal)) {
      yield run.kwargs.resumable ? e : { event: e.event, data: e.data };
    }
  }

  /**
   * What `runs.wait` and `join` answer: the run's last `values` event, `{__error__}` when it
   * failed, or the thread's values when it sent no values (a run that only streams updates).
   */
  async result(run: Run, signal: AbortSignal): Promise<unknown> {
    // Each `values` event is the whole state: keep the last one's text, parse it once.
    let last: { event: string; data: string } | undefined;
    for await (const e of this.#read(run, '0-0', signal)) if (e.event === 'values' || e.event === 'error') last = e;
    if (last) return last.event === 'values' ? JSON.parse(last.data) : { __error__: JSON.parse(last.data) };
    const thread = await this.d.threads.find(run.thread_id);
    return thread?.values ?? null;
  }

  /** Where a live join (no Last-Event-ID) of a non-resumable run starts: after the newest event so far. */
  async liveFrom(run: Run): Promise<string> {
    return this.d.events.lastId(run.run_id);
  }

  /** Cancels runs of a thread: pending ones are settled in the database, running ones are aborted where they run. */
  async cancel(threadId: string, runIds: string[], action: CancelAction): Promise<void> {
    await this.d.runs.requestCancel(threadId, runIds, action);
    await Promise.all(runIds.map((id) => this.d.cancellation.cancel(id, action)));
  }

  /** Waits until the run is no longer pending or running (cancel with `wait`). */
  async settled(run: Run, signal: AbortSignal): Promise<void> {
    if (await this.d.events.ended(run.run_id)) return;
    // From its newest event on: nothing before it is of use here.
    for await (const _ of this.#read(run, await this.d.events.lastId(run.run_id), signal));
  }

  /** The run's log from `after`, read until it ends, or until the run is gone or over without ending it (its log expired, a deleted run). */
  #read(run: Run, after: string, signal: AbortSignal) {
    return this.d.events.read(run.run_id, after, signal, async () => {
      const now = await this.d.runs.find(run.run_id);
      return now !== null && ACTIVE.has(now.status);
    });
  }
}

/**
 * The request's part of a run's config: its config, the checkpoint to start from, the caller (as
 * the reference passes its auth user) and the request's `x-*` and `user-agent` headers in
 * `configurable` (credentials never).
 */
export function requestConfig(body: RunCreate, headers: IncomingHttpHeaders, caller: RunCaller | undefined): AgentRunnableConfig {
  const fromBody = (body.config ?? {}) as AgentRunnableConfig;
  const configurable: Record<string, unknown> = { ...fromBody.configurable };
  if (body.checkpoint_id) configurable.checkpoint_id = body.checkpoint_id;
  if (body.checkpoint) Object.assign(configurable, body.checkpoint);
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string' || HIDDEN_HEADERS.has(name)) continue;
    if (name.startsWith('x-') || name === 'user-agent') configurable[name] = value;
  }
  if (caller) {
    configurable.langgraph_auth_user_id = caller.name;
    configurable.langgraph_auth_permissions = [...caller.scopes];
  }
  return { ...fromBody, configurable };
}
