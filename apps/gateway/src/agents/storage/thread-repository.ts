import type { BaseCheckpointSaver, CheckpointTuple, PendingWrite } from '@langchain/langgraph-checkpoint';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { AgentRunnableConfig, Metadata, Thread, ThreadStatus } from '../agent-types';
import { jsonb, transaction } from './agent-database';
import { ConflictError, NotFoundError } from './storage-errors';

export interface ThreadCreate {
  /** A new uuid when absent. */
  thread_id?: string;
  metadata?: Metadata;
  /** 'raise' (the default): ConflictError when the id is taken; 'do_nothing': the existing thread. */
  if_exists?: 'raise' | 'do_nothing';
}

export type ThreadSortBy = 'thread_id' | 'status' | 'created_at' | 'updated_at';

export interface ThreadFilter {
  /** jsonb containment (`metadata @> filter`). */
  metadata?: Metadata;
  /** jsonb containment of the thread's values (threads without values never match). */
  values?: Record<string, unknown>;
  status?: ThreadStatus;
  ids?: string[];
}

export interface ThreadSearch extends ThreadFilter {
  limit?: number;
  offset?: number;
  /** created_at when absent. */
  sort_by?: ThreadSortBy;
  /** desc when absent. */
  sort_order?: 'asc' | 'desc';
}

export interface ThreadStatusUpdate {
  status: ThreadStatus;
  /** The latest checkpoint's channel values; unchanged when undefined. */
  values?: unknown;
  /** Pending interrupts by task id; unchanged when undefined. */
  interrupts?: Record<string, unknown[]>;
}

const SORT_COLUMNS: Record<ThreadSortBy, string> = {
  thread_id: 'thread_id',
  status: 'status',
  created_at: 'created_at',
  updated_at: 'updated_at',
};

export interface ThreadRow {
  thread_id: string;
  created_at: Date;
  updated_at: Date;
  metadata: Metadata | null;
  config: AgentRunnableConfig | null;
  status: ThreadStatus;
  values: unknown;
  interrupts: Record<string, unknown[]> | null;
}

export function toThread(row: ThreadRow): Thread {
  return {
    thread_id: row.thread_id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    metadata: row.metadata ?? {},
    status: row.status,
    values: row.values ?? null,
    interrupts: row.interrupts ?? {},
    config: row.config ?? {},
  };
}

export const threadNotFound = (threadId: string) => new NotFoundError(`Thread with ID ${threadId} not found`);

function filterClause(filter: ThreadFilter): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.ids != null && filter.ids.length > 0) {
    params.push(filter.ids);
    conditions.push(`thread_id = ANY($${params.length}::text[])`);
  }
  if (filter.metadata != null && Object.keys(filter.metadata).length > 0) {
    params.push(jsonb(filter.metadata));
    conditions.push(`metadata @> $${params.length}::jsonb`);
  }
  if (filter.values != null && Object.keys(filter.values).length > 0) {
    params.push(jsonb(filter.values));
    conditions.push(`"values" @> $${params.length}::jsonb`);
  }
  if (filter.status != null) {
    params.push(filter.status);
    conditions.push(`status = $${params.length}`);
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** What of LangGraph's checkpointer (PostgresSaver) threads use: their checkpoints are deleted and copied with them. */
export type ThreadCheckpointer = Pick<BaseCheckpointSaver, 'list' | 'put' | 'putWrites' | 'deleteThread'>;

/**
 * Threads (`runnel_agent_threads`). A thread's `status`, `values` and `interrupts` are kept here,
 * as of its last run (the run repository's `finish`); its state history is the checkpointer's.
 */
export class ThreadRepository {
  constructor(
    private readonly pool: Pool,
    private readonly checkpointer: ThreadCheckpointer,
  ) {}

  /**
   * A new idle thread.
   * @throws ConflictError when the id is taken and `if_exists` is 'raise' (the default)
   */
  async create(input: ThreadCreate = {}): Promise<Thread> {
    const threadId = input.thread_id || randomUUID();
    const inserted = await this.pool.query<ThreadRow>(
      `INSERT INTO runnel_agent_threads (thread_id, metadata) VALUES ($1, $2::jsonb)
       ON CONFLICT (thread_id) DO NOTHING RETURNING *`,
      [threadId, jsonb(input.metadata ?? {})],
    );
    if (inserted.rows[0]) return toThread(inserted.rows[0]);
    if ((input.if_exists ?? 'raise') === 'raise') throw new ConflictError('Thread already exists');
    return this.get(threadId);
  }

  /** @throws NotFoundError */
  async get(threadId: string): Promise<Thread> {
    const found = await this.find(threadId);
    if (!found) throw threadNotFound(threadId);
    return found;
  }

  async find(threadId: string): Promise<Thread | null> {
    const { rows } = await this.pool.query<ThreadRow>('SELECT * FROM runnel_agent_threads WHERE thread_id = $1', [threadId]);
    return rows[0] ? toThread(rows[0]) : null;
  }

  async search(options: ThreadSearch = {}): Promise<Thread[]> {
    const { where, params } = filterClause(options);
    const column = SORT_COLUMNS[options.sort_by ?? 'created_at'] ?? 'created_at';
    const order = options.sort_order === 'asc' ? 'ASC' : 'DESC';
    params.push(options.limit ?? 10, options.offset ?? 0);
    const { rows } = await this.pool.query<ThreadRow>(
      `SELECT * FROM runnel_agent_threads ${where}
       ORDER BY ${column} ${order}, thread_id ${order}
       LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toThread);
  }

  async count(filter: ThreadFilter = {}): Promise<number> {
    const { where, params } = filterClause(filter);
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM runnel_agent_threads ${where}`, params);
    return Number(rows[0].n);
  }

  /**
   * Merges `metadata` into the thread's (top-level keys replaced, like the reference's spread).
   * @throws NotFoundError
   */
  async patch(threadId: string, patch: { metadata?: Metadata }): Promise<Thread> {
    const { rows } = await this.pool.query<ThreadRow>(
      `UPDATE runnel_agent_threads SET metadata = metadata || $2::jsonb, updated_at = now()
       WHERE thread_id = $1 RETURNING *`,
      [threadId, jsonb(patch.metadata ?? {})],
    );
    if (!rows[0]) throw new NotFoundError('Thread not found');
    return toThread(rows[0]);
  }

  /**
   * Sets the thread's status (and values and interrupts when given), e.g. after a state update.
   * @throws NotFoundError
   */
  async setStatus(threadId: string, update: ThreadStatusUpdate): Promise<Thread> {
    const { rows } = await this.pool.query<ThreadRow>(
      `UPDATE runnel_agent_threads
       SET status = $2,
           "values" = CASE WHEN $3::boolean THEN $4::jsonb ELSE "values" END,
           interrupts = COALESCE($5::jsonb, interrupts),
           updated_at = now()
       WHERE thread_id = $1 RETURNING *`,
      [threadId, update.status, update.values !== undefined, update.values == null ? null : jsonb(update.values), jsonb(update.interrupts)],
    );
    if (!rows[0]) throw new NotFoundError('Thread not found');
    return toThread(rows[0]);
  }

  /**
   * Deletes the thread, its runs and its checkpoints (the rows first: a failure in between leaves
   * unreachable checkpoints, never a thread without its state).
   * @throws NotFoundError
   */
  async delete(threadId: string): Promise<void> {
    const deleted = await transaction(this.pool, async (client) => {
      const { rows } = await client.query('SELECT thread_id FROM runnel_agent_threads WHERE thread_id = $1 FOR UPDATE', [threadId]);
      if (!rows[0]) return false;
      await client.query('DELETE FROM runnel_agent_runs WHERE thread_id = $1', [threadId]);
      await client.query('DELETE FROM runnel_agent_threads WHERE thread_id = $1', [threadId]);
      return true;
    });
    if (!deleted) throw threadNotFound(threadId);
    await this.checkpointer.deleteThread(threadId);
  }

  /**
   * A new thread with the source's metadata (plus `thread_id: <new id>`, as the reference does),
   * config, values and interrupts, and a copy of every checkpoint (all namespaces) and pending
   * write under the new id. Its status is the source's, except that a busy source gives an idle
   * copy (the copy has no runs).
   * @throws NotFoundError
   */
  async copy(threadId: string): Promise<Thread> {
    const { rows: sourceRows } = await this.pool.query<ThreadRow>('SELECT * FROM runnel_agent_threads WHERE thread_id = $1', [threadId]);
    const source = sourceRows[0];
    if (!source) throw threadNotFound(threadId);
    const newThreadId = randomUUID();
    await this.#copyCheckpoints(threadId, newThreadId);
    const { rows } = await this.pool.query<ThreadRow>(
      `INSERT INTO runnel_agent_threads (thread_id, metadata, config, status, "values", interrupts)
       VALUES ($1, $2::jsonb, $3::jsonb, $4, $5::jsonb, $6::jsonb) RETURNING *`,
      [
        newThreadId,
        jsonb({ ...(source.metadata ?? {}), thread_id: newThreadId }),
        jsonb(source.config ?? {}),
        source.status === 'busy' ? 'idle' : source.status,
        jsonb(source.values ?? null),
        jsonb(source.interrupts ?? {}),
      ],
    );
    return toThread(rows[0]);
  }

  /** Oldest first, so that a copy interrupted halfway still has each checkpoint's parents. */
  async #copyCheckpoints(fromThreadId: string, toThreadId: string): Promise<void> {
    const tuples: CheckpointTuple[] = [];
    for await (const tuple of this.checkpointer.list({ configurable: { thread_id: fromThreadId } })) tuples.push(tuple);
    tuples.reverse();
    const rename = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll(fromThreadId, toThreadId)) as T;
    for (const tuple of tuples) {
      const ns = (tuple.config.configurable?.checkpoint_ns as string | undefined) ?? '';
      const parentId = tuple.parentConfig?.configurable?.checkpoint_id as string | undefined;
      const saved = await this.checkpointer.put(
        { configurable: { thread_id: toThreadId, checkpoint_ns: ns, checkpoint_id: parentId } },
        tuple.checkpoint,
        rename(tuple.metadata ?? {}) as NonNullable<CheckpointTuple['metadata']>,
        // Every channel's blob, not only the ones this checkpoint changed.
        tuple.checkpoint.channel_versions,
      );
      const byTask = new Map<string, PendingWrite[]>();
      for (const [taskId, channel, value] of tuple.pendingWrites ?? []) {
        const writes = byTask.get(taskId) ?? [];
        writes.push([channel, value]);
        byTask.set(taskId, writes);
      }
      for (const [taskId, writes] of byTask) await this.checkpointer.putWrites(saved, writes, taskId);
    }
  }
}
