import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Metadata } from '../agent-types';
import { jsonb, transaction } from './agent-database';
import { NotFoundError } from './storage-errors';

/** A cron as the LangGraph Platform API answers it (the SDK's `Cron`). */
export interface Cron {
  cron_id: string;
  assistant_id: string;
  thread_id: string | null;
  /** Stateless crons only: 'delete' (the default) or 'keep' the run's thread. */
  on_run_completed: 'delete' | 'keep' | null;
  end_time: string | null;
  schedule: string;
  created_at: string;
  updated_at: string;
  /** The run to create at each tick (the create request's run fields). */
  payload: Record<string, unknown>;
  user_id: string | null;
  next_run_date: string | null;
  metadata: Metadata;
  enabled: boolean;
}

/** A cron with what the scheduler needs and the API does not show. */
export interface StoredCron extends Cron {
  /** The scopes of the caller that created it (its runs' `langgraph_auth_permissions`). */
  user_scopes: string[];
}

export interface NewCron {
  cron_id?: string;
  assistant_id: string;
  thread_id?: string;
  schedule: string;
  payload: Record<string, unknown>;
  metadata?: Metadata;
  end_time?: Date | null;
  next_run_date: Date;
  enabled?: boolean;
  on_run_completed?: 'delete' | 'keep' | null;
  user_id?: string;
  user_scopes?: readonly string[];
}

export interface CronPatch {
  schedule?: string;
  next_run_date?: Date;
  end_time?: Date | null;
  enabled?: boolean;
  on_run_completed?: 'delete' | 'keep';
  metadata?: Metadata;
  /** Merged over the stored payload (top-level keys). */
  payload?: Record<string, unknown>;
}

export type CronSortBy = 'cron_id' | 'assistant_id' | 'thread_id' | 'created_at' | 'updated_at' | 'next_run_date';

export interface CronFilter {
  assistant_id?: string;
  thread_id?: string;
  enabled?: boolean;
}

export interface CronSearch extends CronFilter {
  limit?: number;
  offset?: number;
  sort_by?: CronSortBy;
  sort_order?: 'asc' | 'desc';
}

/** What the scheduler decides for a due cron: its next run date (null: never due again), or null: delete it. */
export type DueDecision = { next_run_date: Date | null } | null;

interface CronRow {
  cron_id: string;
  assistant_id: string;
  thread_id: string | null;
  user_id: string | null;
  schedule: string;
  payload: Record<string, unknown> | null;
  metadata: Metadata | null;
  end_time: Date | null;
  next_run_date: Date | null;
  created_at: Date;
  updated_at: Date;
  enabled: boolean;
  on_run_completed: 'delete' | 'keep' | null;
  user_scopes: string[] | null;
}

function toCron(row: CronRow): Cron {
  return {
    cron_id: row.cron_id,
    assistant_id: row.assistant_id,
    thread_id: row.thread_id,
    on_run_completed: row.on_run_completed,
    end_time: row.end_time?.toISOString() ?? null,
    schedule: row.schedule,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    payload: row.payload ?? {},
    user_id: row.user_id,
    next_run_date: row.next_run_date?.toISOString() ?? null,
    metadata: row.metadata ?? {},
    enabled: row.enabled,
  };
}

const toStored = (row: CronRow): StoredCron => ({ ...toCron(row), user_scopes: row.user_scopes ?? [] });

const SORT_COLUMNS: Record<CronSortBy, string> = {
  cron_id: 'cron_id',
  assistant_id: 'assistant_id',
  thread_id: 'thread_id',
  created_at: 'created_at',
  updated_at: 'updated_at',
  next_run_date: 'next_run_date',
};

const cronNotFound = (cronId: string) => new NotFoundError(`Cron with ID ${cronId} not found`);

function where(filter: CronFilter, params: unknown[]): string {
  const clauses: string[] = [];
  if (filter.assistant_id != null) {
    params.push(filter.assistant_id);
    clauses.push(`assistant_id = $${params.length}`);
  }
  if (filter.thread_id != null) {
    params.push(filter.thread_id);
    clauses.push(`thread_id = $${params.length}`);
  }
  if (filter.enabled != null) {
    params.push(filter.enabled);
    clauses.push(`enabled = $${params.length}`);
  }
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

/**
 * Crons (`runnel_agent_crons`): what the routes create, search, change and delete, and what every
 * replica's scheduler takes when due (`takeDue`: one row at a time, FOR UPDATE SKIP LOCKED, so two
 * replicas never take the same cron at once).
 */
export class CronRepository {
  constructor(private readonly pool: Pool) {}

  async create(input: NewCron): Promise<Cron> {
    const { rows } = await this.pool.query<CronRow>(
      `INSERT INTO runnel_agent_crons
         (cron_id, assistant_id, thread_id, user_id, schedule, payload, metadata, end_time, next_run_date, enabled, on_run_completed, user_scopes)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11, $12::jsonb)
       RETURNING *`,
      [
        input.cron_id ?? randomUUID(),
        input.assistant_id,
        input.thread_id ?? null,
        input.user_id ?? null,
        input.schedule,
        jsonb(input.payload),
        jsonb(input.metadata ?? {}),
        input.end_time ?? null,
        input.next_run_date,
        input.enabled ?? true,
        input.on_run_completed ?? null,
        jsonb(input.user_scopes ?? []),
      ],
    );
    return toCron(rows[0]);
  }

  /** @throws NotFoundError */
  async get(cronId: string): Promise<StoredCron> {
    const { rows } = await this.pool.query<CronRow>('SELECT * FROM runnel_agent_crons WHERE cron_id = $1', [cronId]);
    if (!rows[0]) throw cronNotFound(cronId);
    return toStored(rows[0]);
  }

  async search(options: CronSearch = {}): Promise<Cron[]> {
    const params: unknown[] = [];
    const filter = where(options, params);
    const column = SORT_COLUMNS[options.sort_by ?? 'created_at'];
    const order = options.sort_order === 'asc' ? 'ASC' : 'DESC';
    params.push(options.limit ?? 10, options.offset ?? 0);
    const { rows } = await this.pool.query<CronRow>(
      `SELECT * FROM runnel_agent_crons ${filter}
       ORDER BY ${column} ${order} NULLS LAST, cron_id ${order} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toCron);
  }

  async count(filter: CronFilter = {}): Promise<number> {
    const params: unknown[] = [];
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM runnel_agent_crons ${where(filter, params)}`, params);
    return Number(rows[0].n);
  }

  /**
   * Changes a cron; `patch(cron)` gives the change from the cron as it is (locked: a concurrent
   * tick waits, then sees the change).
   * @throws NotFoundError
   */
  async update(cronId: string, patch: (cron: StoredCron) => CronPatch): Promise<Cron> {
    return transaction(this.pool, async (client) => {
      const { rows: found } = await client.query<CronRow>('SELECT * FROM runnel_agent_crons WHERE cron_id = $1 FOR UPDATE', [cronId]);
      if (!found[0]) throw cronNotFound(cronId);
      const p = patch(toStored(found[0]));
      const { rows } = await client.query<CronRow>(
        `UPDATE runnel_agent_crons SET
           schedule = COALESCE($2, schedule),
           next_run_date = COALESCE($3, next_run_date),
           end_time = CASE WHEN $4::boolean THEN $5::timestamptz ELSE end_time END,
           enabled = COALESCE($6, enabled),
           on_run_completed = COALESCE($7, on_run_completed),
           metadata = COALESCE($8::jsonb, metadata),
           payload = payload || COALESCE($9::jsonb, '{}'::jsonb),
           updated_at = now()
         WHERE cron_id = $1 RETURNING *`,
        [
          cronId,
          p.schedule ?? null,
          p.next_run_date ?? null,
          p.end_time !== undefined,
          p.end_time ?? null,
          p.enabled ?? null,
          p.on_run_completed ?? null,
          jsonb(p.metadata),
          jsonb(p.payload),
        ],
      );
      return toCron(rows[0]);
    });
  }

  /** @throws NotFoundError */
  async delete(cronId: string): Promise<void> {
    const { rowCount } = await this.pool.query('DELETE FROM runnel_agent_crons WHERE cron_id = $1', [cronId]);
    if (!rowCount) throw cronNotFound(cronId);
  }

  /** Sets when a cron is next due (the scheduler's specs set it in the past to skip the wait). */
  async setNextRunDate(cronId: string, date: Date): Promise<void> {
    const { rowCount } = await this.pool.query('UPDATE runnel_agent_crons SET next_run_date = $2 WHERE cron_id = $1', [cronId, date]);
    if (!rowCount) throw cronNotFound(cronId);
  }

  /**
   * Takes one due cron (enabled, `next_run_date <= now()`, not ended; the oldest due first) that no
   * other replica holds, and keeps it locked while `decide(cron, now)` runs (`now`: PostgreSQL's
   * clock, the same for every replica); then writes its decision (the next run date, or null:
   * delete the cron) and commits. A replica that dies meanwhile rolls back (the cron is due again
   * for the others); `decide` throwing rolls back too. Returns false when nothing was due.
   */
  async takeDue(decide: (cron: StoredCron, now: Date) => Promise<DueDecision>): Promise<boolean> {
    return transaction(this.pool, async (client) => {
      // A replica that hangs (not dies) inside must not hold the cron forever: its transaction ends after this.
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = '60s'`);
      const { rows } = await client.query<CronRow & { db_now: Date }>(
        `SELECT *, now() AS db_now FROM runnel_agent_crons
         WHERE enabled AND next_run_date <= now() AND (end_time IS NULL OR end_time > now())
         ORDER BY next_run_date
         FOR UPDATE SKIP LOCKED
         LIMIT 1`,
      );
      const row = rows[0];
      if (!row) return false;
      const decision = await decide(toStored(row), row.db_now);
      await writeDecision(client, row.cron_id, decision);
      return true;
    });
  }

  /** Forgets run idempotency keys older than `seconds` (a tick is retried within seconds, not days). */
  async pruneRunKeys(seconds: number): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM runnel_agent_run_keys WHERE created_at < now() - make_interval(secs => $1)', [seconds]);
    return rowCount ?? 0;
  }
}

async function writeDecision(client: PoolClient, cronId: string, decision: DueDecision): Promise<void> {
  if (decision === null) {
    await client.query('DELETE FROM runnel_agent_crons WHERE cron_id = $1', [cronId]);
    return;
  }
  await client.query('UPDATE runnel_agent_crons SET next_run_date = $2, updated_at = now() WHERE cron_id = $1', [cronId, decision.next_run_date]);
}
