import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { RunStampedSaver } from './run-stamped-saver';
import { PostgresStore } from '@langchain/langgraph-checkpoint-postgres/store';
import { Pool, type PoolClient, type PoolConfig } from 'pg';

/**
 * The advisory lock every replica's `migrate()` and `setupCheckpointer()` take (transaction-scoped:
 * a replica that dies mid-migration releases it with its connection). Two replicas starting at once
 * would otherwise run the same `CREATE TABLE IF NOT EXISTS` concurrently, which PostgreSQL answers
 * with a unique violation on its catalog for the loser.
 */
export const AGENT_MIGRATION_LOCK = 0x72756e6e656c61n; // 'runnela'

/** Our tables (all prefixed `runnel_agent_`), in creation order; every statement is idempotent. */
const MIGRATION = [
  `CREATE TABLE IF NOT EXISTS runnel_agent_assistants (
    assistant_id text PRIMARY KEY,
    graph_id text NOT NULL,
    name text NOT NULL,
    description text,
    config jsonb NOT NULL DEFAULT '{}',
    context jsonb,
    metadata jsonb NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_assistants_graph_id ON runnel_agent_assistants (graph_id)`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_assistants_created_at ON runnel_agent_assistants (created_at)`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_assistants_metadata ON runnel_agent_assistants USING gin (metadata jsonb_path_ops)`,
  `CREATE TABLE IF NOT EXISTS runnel_agent_assistant_versions (
    assistant_id text NOT NULL REFERENCES runnel_agent_assistants (assistant_id) ON DELETE CASCADE,
    version integer NOT NULL,
    graph_id text NOT NULL,
    name text NOT NULL,
    description text,
    config jsonb NOT NULL DEFAULT '{}',
    context jsonb,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (assistant_id, version)
  )`,
  `CREATE TABLE IF NOT EXISTS runnel_agent_threads (
    thread_id text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    metadata jsonb NOT NULL DEFAULT '{}',
    config jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'busy', 'interrupted', 'error')),
    "values" jsonb,
    interrupts jsonb NOT NULL DEFAULT '{}'
  )`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_threads_status ON runnel_agent_threads (status)`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_threads_created_at ON runnel_agent_threads (created_at)`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_threads_metadata ON runnel_agent_threads USING gin (metadata jsonb_path_ops)`,
  `CREATE TABLE IF NOT EXISTS runnel_agent_runs (
    run_id text PRIMARY KEY,
    thread_id text NOT NULL REFERENCES runnel_agent_threads (thread_id) ON DELETE CASCADE,
    assistant_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL CHECK (status IN ('pending', 'running', 'error', 'success', 'timeout', 'interrupted')),
    metadata jsonb NOT NULL DEFAULT '{}',
    kwargs jsonb NOT NULL,
    multitask_strategy text NOT NULL CHECK (multitask_strategy IN ('reject', 'rollback', 'interrupt', 'enqueue')),
    attempt integer NOT NULL DEFAULT 0,
    worker_id text,
    heartbeat_at timestamptz
  )`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_runs_thread_status ON runnel_agent_runs (thread_id, status, created_at)`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_runs_thread_created_at ON runnel_agent_runs (thread_id, created_at)`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_runs_assistant_id ON runnel_agent_runs (assistant_id)`,
  // At most one running run per thread, whatever a replica does: the multitask rules' backstop.
  `CREATE UNIQUE INDEX IF NOT EXISTS runnel_agent_runs_one_running ON runnel_agent_runs (thread_id) WHERE status = 'running'`,
  `CREATE TABLE IF NOT EXISTS runnel_agent_crons (
    cron_id text PRIMARY KEY,
    assistant_id text NOT NULL,
    thread_id text,
    user_id text,
    schedule text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}',
    end_time timestamptz,
    next_run_date timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_crons_next_run_date ON runnel_agent_crons (next_run_date)`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_crons_assistant_id ON runnel_agent_crons (assistant_id)`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_crons_thread_id ON runnel_agent_crons (thread_id)`,
  `ALTER TABLE runnel_agent_crons ADD COLUMN IF NOT EXISTS enabled boolean NOT NULL DEFAULT true`,
  `ALTER TABLE runnel_agent_crons ADD COLUMN IF NOT EXISTS on_run_completed text`,
  `ALTER TABLE runnel_agent_crons ADD COLUMN IF NOT EXISTS user_scopes jsonb NOT NULL DEFAULT '[]'`,
  // What the scheduler's SELECT … WHERE enabled AND next_run_date <= now() … FOR UPDATE SKIP LOCKED reads.
  `CREATE INDEX IF NOT EXISTS runnel_agent_crons_due ON runnel_agent_crons (next_run_date) WHERE enabled`,
  // Idempotency keys of runs (a cron's tick): inserted in the run's own transaction, so a key names
  // at most one run ever created; no foreign key, so the key outlives a run whose thread is deleted.
  `CREATE TABLE IF NOT EXISTS runnel_agent_run_keys (
    key text PRIMARY KEY,
    run_id text NOT NULL,
    thread_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX IF NOT EXISTS runnel_agent_run_keys_created_at ON runnel_agent_run_keys (created_at)`,
  // claim and finish in one round trip each, with parameters: PL/pgSQL runs each statement with a
  // snapshot of its own, so what runs after the locks sees every change the locks' holders made.
  // Locks: the thread's row, then the run's (the order every run change takes).
  `CREATE OR REPLACE FUNCTION runnel_agent_claim_run(p_run_id text, p_worker_id text)
   RETURNS SETOF runnel_agent_runs LANGUAGE plpgsql AS $fn$
   DECLARE
     r runnel_agent_runs;
   BEGIN
     PERFORM 1 FROM runnel_agent_threads WHERE thread_id = (SELECT thread_id FROM runnel_agent_runs WHERE run_id = p_run_id) FOR UPDATE;
     SELECT * INTO r FROM runnel_agent_runs WHERE run_id = p_run_id FOR UPDATE;
     -- Gone (deleted, cancelled, claimed or finished): no row.
     IF NOT FOUND OR r.status <> 'pending' THEN RETURN; END IF;
     RETURN QUERY
       UPDATE runnel_agent_runs x
       SET status = 'running', attempt = x.attempt + 1, worker_id = p_worker_id, heartbeat_at = now(), updated_at = now()
       WHERE x.run_id = p_run_id AND x.created_at <= now()
         AND NOT EXISTS (
           SELECT 1 FROM runnel_agent_runs o
           WHERE o.thread_id = x.thread_id AND o.run_id <> x.run_id
             AND (o.status = 'running' OR (o.status = 'pending' AND (o.created_at, o.run_id) < (x.created_at, x.run_id)))
         )
       RETURNING x.*;
     -- Not due, or another run of the thread goes first: the run as it is (still pending).
     IF NOT FOUND THEN RETURN NEXT r; END IF;
   END
   $fn$`,
  `CREATE OR REPLACE FUNCTION runnel_agent_finish_run(p_run_id text, p_status text, p_thread_status text, p_set_values boolean, p_values jsonb, p_interrupts jsonb)
   RETURNS TABLE (found boolean, next_run_id text) LANGUAGE plpgsql AS $fn$
   DECLARE
     t text;
     n text;
   BEGIN
     SELECT thread_id INTO t FROM runnel_agent_runs WHERE run_id = p_run_id;
     IF t IS NULL THEN RETURN QUERY SELECT false, NULL::text; RETURN; END IF;
     PERFORM 1 FROM runnel_agent_threads WHERE thread_id = t FOR UPDATE;
     PERFORM 1 FROM runnel_agent_runs WHERE run_id = p_run_id FOR UPDATE;
     IF NOT FOUND THEN RETURN QUERY SELECT false, NULL::text; RETURN; END IF;
     UPDATE runnel_agent_runs SET status = p_status, worker_id = NULL, heartbeat_at = NULL, updated_at = now() WHERE run_id = p_run_id;
     SELECT run_id INTO n FROM runnel_agent_runs WHERE thread_id = t AND status = 'pending' ORDER BY created_at, run_id LIMIT 1;
     -- 'busy' instead of 'idle' when another run of the thread is pending.
     UPDATE runnel_agent_threads
     SET status = CASE WHEN p_thread_status = 'idle' AND n IS NOT NULL THEN 'busy' ELSE p_thread_status END,
         "values" = CASE WHEN p_set_values THEN p_values ELSE "values" END,
         interrupts = COALESCE(p_interrupts, interrupts),
         updated_at = now()
     WHERE thread_id = t;
     RETURN QUERY SELECT true, n;
   END
   $fn$`,
];

/** `fn` in one transaction on one pooled connection: committed when it resolves, rolled back when it throws. */
export async function transaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * PostgresStore's own pool (a private field of @langchain/langgraph-checkpoint-postgres 1.0.5): it
 * needs an 'error' listener as ours does (else an idle connection's error, e.g. PostgreSQL
 * restarting, is an unhandled 'error' event that ends the process).
 */
function storePool(store: PostgresStore): Pool | undefined {
  const pool = (store as unknown as { core?: { pool?: unknown } }).core?.pool;
  return pool instanceof Pool ? pool : undefined;
}

/**
 * Runs `end` (which ends `pool`) and waits until every connection is closed: pg-pool's `end()`
 * resolves before its idle connections have gone, and a server stopping meanwhile would reach them.
 */
async function endPool(pool: Pool | undefined, end: () => Promise<void>): Promise<void> {
  const open = pool?.totalCount ?? 0;
  let removed = 0;
  const gone = new Promise<void>((resolve) => {
    if (open === 0) return resolve();
    pool?.on('remove', () => {
      if (++removed >= open) resolve();
    });
  });
  await end();
  await gone;
}

/** A JSON value as a `jsonb` parameter (`$n::jsonb`): undefined → SQL NULL. */
export function jsonb(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

export interface Checkpointing {
  /** LangGraph's checkpointer, on the database's pool. */
  checkpointer: PostgresSaver;
  /** LangGraph's long-term store (`/store/*`, `config.store`), on a pool of its own to the same database. */
  store: PostgresStore;
}

/**
 * The gateway's agent database: one `pg.Pool` (POSTGRES_URI) that our `runnel_agent_*` tables and
 * LangGraph's PostgresSaver share; the PostgresStore opens its own pool to the same URI (its
 * constructor takes connection options, not a pool). Every replica calls `migrate()` and
 * `setupCheckpointer()` at start; the advisory lock serialises them across replicas.
 */
export class AgentDatabase {
  readonly pool: Pool;
  #checkpointing: Checkpointing | undefined;
  #closed = false;

  constructor(
    readonly uri: string,
    poolConfig: Omit<PoolConfig, 'connectionString'> = {},
  ) {
    this.pool = new Pool({ ...poolConfig, connectionString: uri });
    // An idle connection's error (the server restarted, a network cut) is emitted on the pool;
    // unhandled it would crash the process. The next query that needs a connection reports it.
    this.pool.on('error', () => undefined);
  }

  /** Creates our tables and indexes if missing, under the migration lock. */
  async migrate(): Promise<void> {
    await transaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [AGENT_MIGRATION_LOCK.toString()]);
      for (const statement of MIGRATION) await client.query(statement);
    });
  }

  /**
   * LangGraph's PostgresSaver (on our pool) and PostgresStore, their tables set up under the
   * migration lock (their setups are not safe to run concurrently). The same pair on later calls.
   */
  async setupCheckpointer(): Promise<Checkpointing> {
    if (this.#checkpointing) return this.#checkpointing;
    const checkpointer = new RunStampedSaver(this.pool);
    const store = new PostgresStore({ connectionOptions: this.uri, ensureTables: true });
    storePool(store)?.on('error', () => undefined);
    try {
      // The lock is held by one connection's transaction while the setups run on others of the pool.
      await transaction(this.pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [AGENT_MIGRATION_LOCK.toString()]);
        await checkpointer.setup();
        await store.setup();
      });
    } catch (err) {
      await store.stop().catch(() => undefined);
      throw err;
    }
    this.#checkpointing = { checkpointer, store };
    return this.#checkpointing;
  }

  /**
   * Ends the store's pool and ours (not the saver's `end()`: that would end our pool twice), once
   * their connections are closed. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const store = this.#checkpointing?.store;
    if (store) await endPool(storePool(store), () => store.stop());
    await endPool(this.pool, () => this.pool.end());
  }
}
