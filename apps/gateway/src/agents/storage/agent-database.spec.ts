import { PostgresServer } from '@runnel/testing';
import { Client } from 'pg';
import { AgentDatabase } from './agent-database';

describe('AgentDatabase', () => {
  let server: PostgresServer;
  let url: string;

  beforeAll(async () => {
    server = await PostgresServer.start();
    url = await server.createDatabase('agent_database_spec');
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  async function tables(): Promise<string[]> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
      return rows.map((r) => r.name);
    } finally {
      await client.end();
    }
  }

  it('migrates and sets up the checkpointer and store from several replicas at once, idempotently', async () => {
    const replicas = Array.from({ length: 4 }, () => new AgentDatabase(url, { max: 4 }));
    try {
      await Promise.all(replicas.map(async (db) => {
        await db.migrate();
        await db.setupCheckpointer();
      }));
      // Again, on tables that exist.
      await replicas[0].migrate();
      const names = await tables();
      for (const table of ['assistants', 'assistant_versions', 'threads', 'runs', 'crons']) expect(names).toContain(`runnel_agent_${table}`);
      for (const table of ['checkpoints', 'checkpoint_blobs', 'checkpoint_writes', 'checkpoint_migrations', 'store', 'store_migrations']) expect(names).toContain(table);
    } finally {
      await Promise.all(replicas.map((db) => db.close()));
    }
  });

  it('gives a working saver and store, and closes idempotently', async () => {
    const db = new AgentDatabase(url);
    await db.migrate();
    const { checkpointer, store } = await db.setupCheckpointer();
    expect(await db.setupCheckpointer()).toEqual({ checkpointer, store });
    await store.put(['users', 'u1'], 'prefs', { theme: 'dark' });
    expect((await store.get(['users', 'u1'], 'prefs'))?.value).toEqual({ theme: 'dark' });
    expect(await checkpointer.getTuple({ configurable: { thread_id: 'none' } })).toBeUndefined();
    await db.close();
    await db.close();
    await expect(db.pool.query('SELECT 1')).rejects.toThrow();
  });

  it('survives its idle connections being terminated (both pools handle the error)', async () => {
    const db = new AgentDatabase(url);
    try {
      await db.migrate();
      const { store } = await db.setupCheckpointer();
      await store.put(['ns'], 'k', { v: 1 });
      const admin = new Client({ connectionString: url });
      await admin.connect();
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
      await admin.end();
      await new Promise((r) => setTimeout(r, 200));
      expect((await store.get(['ns'], 'k'))?.value).toEqual({ v: 1 });
      expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });

  it('keeps at most one running run per thread in the schema itself', async () => {
    const db = new AgentDatabase(url);
    try {
      await db.migrate();
      await db.pool.query(`INSERT INTO runnel_agent_threads (thread_id) VALUES ('t-unique')`);
      const insert = (id: string) =>
        db.pool.query(
          `INSERT INTO runnel_agent_runs (run_id, thread_id, assistant_id, status, kwargs, multitask_strategy)
           VALUES ($1, 't-unique', 'a', 'running', '{}', 'enqueue')`,
          [id],
        );
      await insert('r1');
      await expect(insert('r2')).rejects.toMatchObject({ code: '23505' });
    } finally {
      await db.close();
    }
  });
});
