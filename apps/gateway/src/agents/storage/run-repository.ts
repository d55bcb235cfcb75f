import { randomUUID } from 'node:crypto';
import { escapeIdentifier, type Pool, type PoolClient } from 'pg';
import type { AgentRunnableConfig, Assistant, Metadata, MultitaskStrategy, Run, RunKwargs, RunStatus, ThreadStatus } from '../agent-types';
import { jsonb, transaction } from './agent-database';
import { NotFoundError, ThreadBusyError } from './storage-errors';
import { threadNotFound, type ThreadRow } from './thread-repository';

/** A run to create: the client's request, merged here with its assistant's and its thread's settings. */
export interface NewRun {
  /** A new uuid when absent. */
  run_id?: string;
  /** Absent for a stateless run (`/runs/...`): a new thread is created for it. */
  thread_id?: string;
  assistant: Pick<Assistant, 'assistant_id' | 'graph_id' | 'config' | 'context' | 'metadata'>;
  kwargs: RunKwargs;
  metadata?: Metadata;
  /** The authenticated user, `configurable.user_id` unless the configs name one. */
  user_id?: string;
}

export interface RunCreateOptions {
  /** 'reject' when absent (the API's default). */
  multitaskStrategy?: MultitaskStrategy;
  /** What to do when `thread_id` names no thread: 'reject' (the default) → NotFoundError; 'create' it. */
  ifNotExists?: 'create' | 'reject';
  /** The run becomes due this much later: its `created_at` is in the future until then (as in the reference). */
  afterSeconds?: number;
  /**
   * At most one run is ever created under this key (a cron's tick): it is recorded in the run's
   * transaction, and a second create with it throws DuplicateRunError naming the first run.
   */
  idempotencyKey?: string;
}

/** A create whose idempotency key already names a run: that run. */
export class DuplicateRunError extends Error {
  override readonly name = 'DuplicateRunError';

  constructor(
    readonly runId: string,
    readonly threadId: string,
  ) {
    super(`A run was already created under this key: ${runId}`);
  }
}

export interface RunCreated {
  run: Run;
  /**
   * The thread's other pending and running runs at the time of the insert, oldest first: the
   * caller cancels them for 'interrupt' and 'rollback' (for 'enqueue' the new run waits for them).
   */
  inflight: Run[];
}

/**
 * What `claim` found: 'claimed' (it is now running, for the caller); 'wait' (another run of its
 * thread is running, an older one is pending, or it is not due yet: claim again later, e.g. when
 * `finish` names it); 'gone' (it was cancelled, deleted or has already been claimed or finished:
 * drop it).
 */
export type ClaimResult = 'claimed' | 'wait' | 'gone';

/** `claimRun`'s answer: the run as it now is when claimed (running, attempt counted). */
export interface Claim {
  result: ClaimResult;
  run?: Run;
}

/** The thread as a finished run leaves it. */
export interface FinishedThread {
  /** 'idle' (the default) becomes 'busy' when another run of the thread is pending. */
  status?: Exclude<ThreadStatus, 'busy'>;
  /** The latest checkpoint's channel values; unchanged when undefined. */
  values?: unknown;
  /** Pending interrupts by task id (`{}` to clear them); unchanged when undefined. */
  interrupts?: Record<string, unknown[]>;
}

export interface CancelResult {
  /** The runs that were running: the caller stops them (their workers call `finish`). */
  running: string[];
  /** The pending runs marked interrupted ('interrupt') or deleted ('rollback') here. */
  cancelled: string[];
}

interface RunRow {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  created_at: Date;
  updated_at: Date;
  status: RunStatus;
  metadata: Metadata | null;
  kwargs: RunKwargs;
  multitask_strategy: MultitaskStrategy;
  attempt: number;
  worker_id: string | null;
  heartbeat_at: Date | null;
}

function toRun(row: RunRow): Run {
  return {
    run_id: row.run_id,
    thread_id: row.thread_id,
    assistant_id: row.assistant_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    status: row.status,
    metadata: row.metadata ?? {},
    kwargs: row.kwargs,
    multitask_strategy: row.multitask_strategy,
  };
}

const RUN_NOT_FOUND = 'Run not found';
const INFLIGHT = `status IN ('pending', 'running')`;

function configurableOf(config: AgentRunnableConfig | null | undefined): Record<string, unknown> {
  return config?.configurable ?? {};
}

/**
 * Runs (`runnel_agent_runs`) and the multitask rules, correct across replicas: every change that
 * depends on a thread's other runs locks the thread's row first (`SELECT … FOR UPDATE`), and a
 * unique partial index keeps at most one run per thread running.
 */
export class RunRepository {
  readonly #checkpoints: string;
  readonly #checkpointWrites: string;

  constructor(
    private readonly pool: Pool,
    /** The schema of LangGraph's checkpoint tables (PostgresSaver's `schema` option). */
    checkpointSchema = 'public',
  ) {
    this.#checkpoints = `${escapeIdentifier(checkpointSchema)}.checkpoints`;
    this.#checkpointWrites = `${escapeIdentifier(checkpointSchema)}.checkpoint_writes`;
  }

  /**
   * Inserts a pending run under the multitask rules and marks its thread busy. With `thread_id`
   * absent, or missing and `ifNotExists: 'create'`, a thread is created (metadata
   * `{ graph_id, assistant_id, ...metadata }`). The run's config is the assistant's, the thread's
   * and the request's merged (`configurable` key by key, plus `run_id`, `thread_id`, `graph_id`,
   * `assistant_id` and `user_id`); its metadata is the assistant's, the thread's and the request's.
   * @throws NotFoundError when `thread_id` names no thread and `ifNotExists` is 'reject'
   * @throws ThreadBusyError when the strategy is 'reject' and the thread has a pending or running run
   */
  async create(input: NewRun, options: RunCreateOptions = {}): Promise<RunCreated> {
    const strategy = options.multitaskStrategy ?? 'reject';
    const ifNotExists = options.ifNotExists ?? 'reject';
    const runId = input.run_id ?? randomUUID();
    const { assistant, kwargs } = input;
    const requestConfig: AgentRunnableConfig = kwargs.config ?? {};
    const metadata = input.metadata ?? {};
    return transaction(this.pool, async (client) => {
      let threadId = input.thread_id;
      let thread: ThreadRow | undefined;
      let created = false;
      if (threadId !== undefined) thread = await lockThread(client, threadId);
      if (!thread) {
        if (threadId !== undefined && ifNotExists !== 'create') throw threadNotFound(threadId);
        threadId ??= randomUUID();
        const threadConfig: AgentRunnableConfig = {
          ...assistant.config,
          ...requestConfig,
          configurable: { ...configurableOf(assistant.config), ...configurableOf(requestConfig) },
        };
        const { rows } = await client.query<ThreadRow>(
          `INSERT INTO runnel_agent_threads (thread_id, metadata, config, status) VALUES ($1, $2::jsonb, $3::jsonb, 'busy')
           ON CONFLICT (thread_id) DO NOTHING RETURNING *`,
          [threadId, jsonb({ graph_id: assistant.graph_id, assistant_id: assistant.assistant_id, ...metadata }), jsonb(threadConfig)],
        );
        thread = rows[0];
        created = thread !== undefined;
        // Created by a concurrent request meanwhile (it has committed: ON CONFLICT waited for it).
        thread ??= await lockThread(client, threadId);
        if (!thread) throw threadNotFound(threadId);
      }
      const { rows: inflightRows } = await client.query<RunRow>(
        `SELECT * FROM runnel_agent_runs WHERE thread_id = $1 AND ${INFLIGHT} ORDER BY created_at, run_id`,
        [threadId],
      );
      if (strategy === 'reject' && inflightRows.length > 0) throw new ThreadBusyError();
      if (!created && thread.status !== 'busy') {
        const threadConfig: AgentRunnableConfig = {
          ...assistant.config,
          ...thread.config,
          ...requestConfig,
          configurable: { ...configurableOf(assistant.config), ...configurableOf(thread.config), ...configurableOf(requestConfig) },
        };
        const { rows } = await client.query<ThreadRow>(
          `UPDATE runnel_agent_threads SET status = 'busy', metadata = metadata || $2::jsonb, config = $3::jsonb, updated_at = now()
           WHERE thread_id = $1 RETURNING *`,
          [threadId, jsonb({ graph_id: assistant.graph_id, assistant_id: assistant.assistant_id }), jsonb(threadConfig)],
        );
        thread = rows[0];
      }
      const userId =
        configurableOf(requestConfig)['user_id'] ?? configurableOf(thread.config)['user_id'] ?? configurableOf(assistant.config)['user_id'] ?? input.user_id;
      const configurable: Record<string, unknown> = {
        ...configurableOf(assistant.config),
        ...configurableOf(thread.config),
        ...configurableOf(requestConfig),
        run_id: runId,
        thread_id: threadId,
        graph_id: assistant.graph_id,
        assistant_id: assistant.assistant_id,
        ...(userId !== undefined ? { user_id: userId } : {}),
      };
      const runMetadata: Metadata = { ...assistant.metadata, ...(thread.metadata ?? {}), ...metadata };
      const context =
        typeof assistant.context !== 'object' && assistant.context != null
          ? assistant.context
          : { ...((assistant.context as object | null) ?? {}), ...((kwargs.context as object | null | undefined) ?? {}) };
      const runKwargs: RunKwargs = {
        ...kwargs,
        config: { ...assistant.config, ...requestConfig, configurable, metadata: runMetadata },
        context,
      };
      if (options.idempotencyKey !== undefined) await recordKey(client, options.idempotencyKey, runId, thread.thread_id);
      const { rows } = await client.query<RunRow>(
        `INSERT INTO runnel_agent_runs (run_id, thread_id, assistant_id, created_at, status, metadata, kwargs, multitask_strategy)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4), 'pending', $5::jsonb, $6::jsonb, $7)
         RETURNING *`,
        [runId, threadId, assistant.assistant_id, Math.max(0, options.afterSeconds ?? 0), jsonb(runMetadata), jsonb(runKwargs), strategy],
      );
      return { run: toRun(rows[0]), inflight: inflightRows.map(toRun) };
    });
  }

  /**
   * Pending → running, for the caller, if the run is due, no other run of its thread is running and
   * no older one is pending (runs of a thread start one at a time, oldest first); with the claimed
   * run's row, so that the worker need not read it again.
   */
  async claimRun(runId: string, workerId?: string): Promise<Claim> {
    // One round trip (runnel_agent_claim_run in the migration): the locks, then the checks and the
    // claim, which changes nothing unless the run is pending, due and not blocked.
    const { rows } = await this.pool.query<RunRow>('SELECT * FROM runnel_agent_claim_run($1, $2)', [runId, workerId ?? null]);
    if (!rows[0]) return { result: 'gone' };
    return rows[0].status === 'running' ? { result: 'claimed', run: toRun(rows[0]) } : { result: 'wait' };
  }

  /**
   * Ends a run (with a final status: not 'pending'): its status and its thread's status, values
   * and interrupts in one transaction. Returns the thread's next pending run (the oldest), to start
   * now, or null. A run that is gone (its thread deleted) changes nothing and returns null.
   */
  async finish(runId: string, status: RunStatus, thread: FinishedThread = {}): Promise<string | null> {
    // One round trip (runnel_agent_finish_run in the migration): the locks, then the run, the next
    // pending run and the thread, which becomes 'busy' instead of 'idle' when another run is pending.
    const { rows } = await this.pool.query<{ found: boolean; next_run_id: string | null }>('SELECT * FROM runnel_agent_finish_run($1, $2, $3, $4, $5::jsonb, $6::jsonb)', [
      runId,
      status,
      thread.status ?? 'idle',
      thread.values !== undefined,
      thread.values == null ? null : jsonb(thread.values),
      jsonb(thread.interrupts),
    ]);
    return rows[0]?.found ? (rows[0].next_run_id ?? null) : null;
  }

  /** The thread's oldest pending run, or null. */
  async nextPending(threadId: string): Promise<string | null> {
    return nextPending(this.pool, threadId);
  }

  /** @throws NotFoundError when the run does not exist (on `threadId`, when given) */
  async get(runId: string, threadId?: string): Promise<Run> {
    const run = await this.find(runId, threadId);
    if (!run) throw new NotFoundError(RUN_NOT_FOUND);
    return run;
  }

  async find(runId: string, threadId?: string): Promise<Run | null> {
    const { rows } = await this.pool.query<RunRow>(
      'SELECT * FROM runnel_agent_runs WHERE run_id = $1 AND ($2::text IS NULL OR thread_id = $2)',
      [runId, threadId ?? null],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** The thread's runs, newest first. */
  async list(threadId: string, options: { limit?: number; offset?: number; status?: RunStatus; metadata?: Metadata } = {}): Promise<Run[]> {
    const params: unknown[] = [threadId];
    let where = 'thread_id = $1';
    if (options.status != null) {
      params.push(options.status);
      where += ` AND status = $${params.length}`;
    }
    if (options.metadata != null && Object.keys(options.metadata).length > 0) {
      params.push(jsonb(options.metadata));
      where += ` AND metadata @> $${params.length}::jsonb`;
    }
    params.push(options.limit ?? 10, options.offset ?? 0);
    const { rows } = await this.pool.query<RunRow>(
      `SELECT * FROM runnel_agent_runs WHERE ${where}
       ORDER BY created_at DESC, run_id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toRun);
  }

  /** The thread's pending and running runs, oldest first. */
  async inflight(threadId: string): Promise<Run[]> {
    const { rows } = await this.pool.query<RunRow>(
      `SELECT * FROM runnel_agent_runs WHERE thread_id = $1 AND ${INFLIGHT} ORDER BY created_at, run_id`,
      [threadId],
    );
    return rows.map(toRun);
  }

  /**
   * Deletes the run and the checkpoints it wrote (checkpoint metadata `run_id`: a rollback's
   * undo); a busy thread left with nothing pending or running becomes idle.
   * @throws NotFoundError
   */
  async delete(runId: string, threadId: string): Promise<void> {
    await transaction(this.pool, async (client) => {
      const run = await lockRun(client, runId);
      if (!run || run.thread_id !== threadId) throw new NotFoundError(RUN_NOT_FOUND);
      await client.query('DELETE FROM runnel_agent_runs WHERE run_id = $1', [runId]);
      await this.#deleteCheckpoints(client, threadId, runId);
      await idleIfNothingInflight(client, threadId);
    });
  }

  /**
   * A run left 'running' by a worker that lost it (died, or handed it back) becomes 'pending' again,
   * to be claimed by the worker that now holds its job. Only from 'running': a run that finished in
   * between (its old worker was stalled, not dead) stays finished.
   */
  async requeueIfRunning(runId: string): Promise<void> {
    await this.pool.query(
      `UPDATE runnel_agent_runs SET status = 'pending', worker_id = NULL, heartbeat_at = NULL, updated_at = now() WHERE run_id = $1 AND status = 'running'`,
      [runId],
    );
  }

  /**
   * Cancels runs of a thread: pending ones here ('interrupt': marked interrupted; 'rollback':
   * deleted), and the thread becomes idle if nothing else is pending or running; running ones are
   * returned for the caller to stop. Finished ones are left as they are.
   * @throws NotFoundError ('Run not found') when a run id is not a run of the thread; nothing is changed then
   */
  async requestCancel(threadId: string, runIds: string[], action: 'interrupt' | 'rollback' = 'interrupt'): Promise<CancelResult> {
    const ids = [...new Set(runIds)];
    return transaction(this.pool, async (client) => {
      await lockThread(client, threadId);
      const { rows } = await client.query<RunRow>(
        'SELECT * FROM runnel_agent_runs WHERE thread_id = $1 AND run_id = ANY($2::text[]) FOR UPDATE',
        [threadId, ids],
      );
      if (rows.length !== ids.length) throw new NotFoundError(RUN_NOT_FOUND);
      const pending = rows.filter((r) => r.status === 'pending').map((r) => r.run_id);
      const running = rows.filter((r) => r.status === 'running').map((r) => r.run_id);
      if (pending.length > 0) {
        if (action === 'rollback') {
          await client.query('DELETE FROM runnel_agent_runs WHERE run_id = ANY($1::text[])', [pending]);
        } else {
          await client.query(`UPDATE runnel_agent_runs SET status = 'interrupted', updated_at = now() WHERE run_id = ANY($1::text[])`, [pending]);
        }
        await idleIfNothingInflight(client, threadId);
      }
      return { running, cancelled: pending };
    });
  }

  async #deleteCheckpoints(client: PoolClient, threadId: string, runId: string): Promise<void> {
    const { rows } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [this.#checkpoints]);
    if (!rows[0].present) return; // the checkpointer was never set up on this database
    await client.query(
      `WITH gone AS (
         DELETE FROM ${this.#checkpoints} WHERE thread_id = $1 AND metadata->>'run_id' = $2 RETURNING checkpoint_ns, checkpoint_id
       )
       DELETE FROM ${this.#checkpointWrites} w USING gone
       WHERE w.thread_id = $1 AND w.checkpoint_ns = gone.checkpoint_ns AND w.checkpoint_id = gone.checkpoint_id`,
      [threadId, runId],
    );
  }
}

async function lockThread(client: PoolClient, threadId: string): Promise<ThreadRow | undefined> {
  const { rows } = await client.query<ThreadRow>('SELECT * FROM runnel_agent_threads WHERE thread_id = $1 FOR UPDATE', [threadId]);
  return rows[0];
}

/**
 * The run, its thread's row locked first (the lock order everywhere: thread, then run), in one
 * statement: the thread's lock is taken in the materialized CTE, which the join reads before the
 * run's row is locked (FOR UPDATE OF r, on the rows the join gives). A run changed meanwhile is
 * read as it is once locked (READ COMMITTED's recheck), as a separate `SELECT … FOR UPDATE` would.
 */
async function lockRun(client: PoolClient, runId: string): Promise<RunRow | undefined> {
  const { rows } = await client.query<RunRow>(lockRunSql('$1'), [runId]);
  return rows[0];
}

/** lockRun's statement, the run id given as SQL (`$1`, or a literal). */
function lockRunSql(id: string): string {
  return `WITH t AS MATERIALIZED (
       SELECT thread_id FROM runnel_agent_threads
       WHERE thread_id = (SELECT thread_id FROM runnel_agent_runs WHERE run_id = ${id})
       FOR UPDATE
     )
     SELECT r.* FROM runnel_agent_runs r JOIN t ON t.thread_id = r.thread_id WHERE r.run_id = ${id}
     FOR UPDATE OF r`;
}

async function nextPending(db: Pick<Pool, 'query'> | PoolClient, threadId: string): Promise<string | null> {
  const { rows } = await db.query<{ run_id: string }>(
    `SELECT run_id FROM runnel_agent_runs WHERE thread_id = $1 AND status = 'pending' ORDER BY created_at, run_id LIMIT 1`,
    [threadId],
  );
  return rows[0]?.run_id ?? null;
}

async function idleIfNothingInflight(client: PoolClient, threadId: string): Promise<void> {
  await client.query(
    `UPDATE runnel_agent_threads SET status = 'idle', updated_at = now()
     WHERE thread_id = $1 AND status = 'busy'
       AND NOT EXISTS (SELECT 1 FROM runnel_agent_runs WHERE thread_id = $1 AND ${INFLIGHT})`,
    [threadId],
  );
}

/**
 * Records the key of a run being created (in its transaction). A key taken by a concurrent create
 * waits for it to commit (ON CONFLICT), then this one throws: one run per key.
 * @throws DuplicateRunError
 */
async function recordKey(client: PoolClient, key: string, runId: string, threadId: string): Promise<void> {
  const { rows } = await client.query(
    'INSERT INTO runnel_agent_run_keys (key, run_id, thread_id) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING RETURNING key',
    [key, runId, threadId],
  );
  if (rows.length > 0) return;
  const { rows: taken } = await client.query<{ run_id: string; thread_id: string }>('SELECT run_id, thread_id FROM runnel_agent_run_keys WHERE key = $1', [key]);
  throw new DuplicateRunError(taken[0]?.run_id ?? '', taken[0]?.thread_id ?? '');
}
