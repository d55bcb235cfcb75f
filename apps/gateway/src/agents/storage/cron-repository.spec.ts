import { PostgresServer } from '@runnel/testing';
import type { Assistant } from '../agent-types';
import { AgentDatabase } from './agent-database';
import { CronRepository, type StoredCron } from './cron-repository';
import { DuplicateRunError, RunRepository } from './run-repository';
import { NotFoundError } from './storage-errors';
import { ThreadRepository } from './thread-repository';

const assistant: Pick<Assistant, 'assistant_id' | 'graph_id' | 'config' | 'context' | 'metadata'> = {
  assistant_id: 'asst-1',
  graph_id: 'agent',
  config: {},
  context: {},
  metadata: {},
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CronRepository', () => {
  let server: PostgresServer;
  let db: AgentDatabase;
  let other: AgentDatabase; // a second replica's pool
  let crons: CronRepository;
  let crons2: CronRepository;
  let runs: RunRepository;
  let runs2: RunRepository;
  let threads: ThreadRepository;

  beforeAll(async () => {
    server = await PostgresServer.start();
    const url = await server.createDatabase('cron_repository_spec');
    db = new AgentDatabase(url);
    other = new AgentDatabase(url);
    await Promise.all([db.migrate(), other.migrate()]);
    const { checkpointer } = await db.setupCheckpointer();
    crons = new CronRepository(db.pool);
    crons2 = new CronRepository(other.pool);
    runs = new RunRepository(db.pool);
    runs2 = new RunRepository(other.pool);
    threads = new ThreadRepository(db.pool, checkpointer);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await other?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    await db.pool.query('DELETE FROM runnel_agent_crons');
  });

  const due = (over: Partial<Parameters<CronRepository['create']>[0]> = {}) =>
    crons.create({ assistant_id: 'asst-1', schedule: '0 0 1 1 *', payload: { input: 1 }, next_run_date: new Date(Date.now() - 1_000), ...over });

  it('creates, gets, searches, counts, updates and deletes', async () => {
    const a = await due({ metadata: { k: 1 }, on_run_completed: 'keep', user_id: 'ann', user_scopes: ['s1'] });
    const b = await due({ assistant_id: 'asst-2', thread_id: 'th-1', enabled: false });
    expect(a).toMatchObject({ assistant_id: 'asst-1', thread_id: null, metadata: { k: 1 }, on_run_completed: 'keep', enabled: true, user_id: 'ann' });
    expect(a).not.toHaveProperty('user_scopes');
    expect((await crons.get(a.cron_id)).user_scopes).toEqual(['s1']);
    expect((await crons.search({ assistant_id: 'asst-2' })).map((c) => c.cron_id)).toEqual([b.cron_id]);
    expect((await crons.search({ enabled: true })).map((c) => c.cron_id)).toEqual([a.cron_id]);
    expect((await crons.search({ sort_by: 'created_at', sort_order: 'asc' })).map((c) => c.cron_id)).toEqual([a.cron_id, b.cron_id]);
    expect(await crons.count({ thread_id: 'th-1' })).toBe(1);
    const end = new Date(Date.now() + 60_000);
    const changed = await crons.update(a.cron_id, () => ({ end_time: end, payload: { webhook: 'http://x' }, enabled: false }));
    expect(changed).toMatchObject({ end_time: end.toISOString(), enabled: false, payload: { input: 1, webhook: 'http://x' } });
    expect((await crons.update(a.cron_id, () => ({ end_time: null }))).end_time).toBeNull();
    await crons.delete(a.cron_id);
    await expect(crons.delete(a.cron_id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(crons.get(a.cron_id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(crons.update(a.cron_id, () => ({}))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('takes only due crons: enabled, next_run_date passed, not ended; oldest first', async () => {
    await due({ enabled: false });
    await due({ end_time: new Date(Date.now() - 10) });
    await due({ next_run_date: new Date(Date.now() + 60_000) });
    const older = await due({ next_run_date: new Date(Date.now() - 5_000) });
    const newer = await due();
    const seen: string[] = [];
    const next = new Date(Date.now() + 86_400_000);
    while (await crons.takeDue(async (c, now) => (seen.push(c.cron_id), expect(now).toBeInstanceOf(Date), { next_run_date: next })));
    expect(seen).toEqual([older.cron_id, newer.cron_id]);
    expect((await crons.get(older.cron_id)).next_run_date).toBe(next.toISOString());
  });

  it('gives a due cron to one replica at a time (SKIP LOCKED); a rollback leaves it due', async () => {
    const cron = await due();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const taking = crons.takeDue(async () => {
      await held;
      return { next_run_date: new Date(Date.now() + 86_400_000) };
    });
    await sleep(100);
    // The other replica sees nothing due while the first holds the cron.
    const seen: StoredCron[] = [];
    expect(await crons2.takeDue(async (c) => (seen.push(c), null))).toBe(false);
    release();
    expect(await taking).toBe(true);
    expect(await crons2.takeDue(async () => null)).toBe(false);

    await crons.setNextRunDate(cron.cron_id, new Date(Date.now() - 1_000));
    await expect(crons.takeDue(async () => Promise.reject(new Error('the replica failed')))).rejects.toThrow('the replica failed');
    // Still due: the other replica takes it; a null decision deletes it.
    expect(await crons2.takeDue(async (c) => (expect(c.cron_id).toBe(cron.cron_id), null))).toBe(true);
    await expect(crons.get(cron.cron_id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates at most one run per idempotency key, even concurrently and after its thread is deleted', async () => {
    const kwargs = { input: 1, stream_mode: ['values' as const], config: {}, temporary: true };
    const results = await Promise.allSettled([
      runs.create({ assistant, kwargs }, { idempotencyKey: 'cron:c1:t1' }),
      runs2.create({ assistant, kwargs }, { idempotencyKey: 'cron:c1:t1' }),
    ]);
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.run] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(DuplicateRunError);
    expect(refused[0]).toMatchObject({ runId: created[0].run_id, threadId: created[0].thread_id });
    // The refused create left no thread behind (its transaction rolled back).
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM runnel_agent_threads WHERE metadata->>'assistant_id' = 'asst-1'`)).rows[0].n).toBe(1);
    await threads.delete(created[0].thread_id);
    await expect(runs.create({ assistant, kwargs }, { idempotencyKey: 'cron:c1:t1' })).rejects.toBeInstanceOf(DuplicateRunError);
    expect((await runs.create({ assistant, kwargs }, { idempotencyKey: 'cron:c1:t2' })).run.run_id).toEqual(expect.any(String));
    expect(await crons.pruneRunKeys(3_600)).toBe(0);
    expect(await crons.pruneRunKeys(0)).toBeGreaterThanOrEqual(2);
  });
});
