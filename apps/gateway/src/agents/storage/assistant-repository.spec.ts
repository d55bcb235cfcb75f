import { PostgresServer } from '@runnel/testing';
import { AgentDatabase } from './agent-database';
import { AssistantRepository, graphAssistantId, uuidV5 } from './assistant-repository';
import { ConflictError, NotFoundError } from './storage-errors';

describe('AssistantRepository', () => {
  let server: PostgresServer;
  let db: AgentDatabase;
  let assistants: AssistantRepository;
  const deletedThreads: string[] = [];

  beforeAll(async () => {
    server = await PostgresServer.start();
    db = new AgentDatabase(await server.createDatabase('assistant_repository_spec'));
    await db.migrate();
    assistants = new AssistantRepository(db.pool, { deleteThread: async (id) => void deletedThreads.push(id) });
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await server?.stop();
  });

  it('derives graph assistant ids as uuid v5 in the reference namespace', () => {
    // Values of the `uuid` package's v5 (what the reference uses).
    expect(graphAssistantId('agent')).toBe('fe096781-5601-53d2-b2f6-0d3403f7e9ca');
    expect(uuidV5('my graph ü', '6ba7b821-9dad-11d1-80b4-00c04fd430c8')).toBe('73510656-be9a-5eb9-8a56-9fe25859aeb0');
  });

  it('ensures one default assistant per graph, concurrently and idempotently', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => assistants.ensureGraphAssistant('agent')));
    const id = graphAssistantId('agent');
    for (const a of results) expect(a).toMatchObject({ assistant_id: id, graph_id: 'agent', name: 'agent', version: 1, metadata: { created_by: 'system' } });
    expect(new Set(results.map((a) => a.created_at)).size).toBe(1);
    expect(await assistants.versions(id)).toHaveLength(1);
    expect(await assistants.get(id)).toEqual(results[0]);
  });

  it('get of an unknown id throws NotFoundError (404)', async () => {
    const err = await assistants.get('00000000-0000-0000-0000-000000000000').catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ status: 404, message: 'Assistant not found' });
  });

  it('create: defaults, if_exists raise (409) and do_nothing', async () => {
    const a = await assistants.create({ graph_id: 'g-create', metadata: { team: 'x' } });
    expect(a).toMatchObject({ graph_id: 'g-create', name: 'g-create', description: null, config: {}, context: {}, metadata: { team: 'x' }, version: 1 });
    expect(a.assistant_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(a.created_at).toISOString()).toBe(a.created_at);
    const err = await assistants.create({ assistant_id: a.assistant_id, graph_id: 'other' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.status).toBe(409);
    expect(await assistants.create({ assistant_id: a.assistant_id, graph_id: 'other', if_exists: 'do_nothing' })).toEqual(a);
  });

  it('update makes a new version, merges metadata; versions and setLatest', async () => {
    const a = await assistants.create({ graph_id: 'g-up', name: 'one', config: { configurable: { model: 'a' } }, metadata: { k1: 1 } });
    const b = await assistants.update(a.assistant_id, { name: 'two', metadata: { k2: 2 }, config: { configurable: { model: 'b' } } });
    expect(b).toMatchObject({ version: 2, name: 'two', metadata: { k1: 1, k2: 2 }, config: { configurable: { model: 'b' } }, graph_id: 'g-up' });
    const c = await assistants.update(a.assistant_id, { description: 'third' });
    expect(c).toMatchObject({ version: 3, name: 'two', description: 'third' });
    const versions = await assistants.versions(a.assistant_id);
    expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(versions[2]).toMatchObject({ name: 'one', metadata: { k1: 1 }, config: { configurable: { model: 'a' } } });
    expect((await assistants.versions(a.assistant_id, { metadata: { k2: 2 } })).map((v) => v.version)).toEqual([3, 2]);
    expect((await assistants.versions(a.assistant_id, { limit: 1, offset: 1 })).map((v) => v.version)).toEqual([2]);

    const latest = await assistants.setLatest(a.assistant_id, 1);
    expect(latest).toMatchObject({ version: 1, name: 'one', description: null, metadata: { k1: 1 }, config: { configurable: { model: 'a' } } });
    // The next update is a new highest version, not version 2 again.
    expect((await assistants.update(a.assistant_id, { name: 'four' })).version).toBe(4);
    await expect(assistants.setLatest(a.assistant_id, 99)).rejects.toMatchObject({ status: 404, message: 'Assistant version not found' });
    await expect(assistants.setLatest('nope', 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(assistants.update('nope', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(assistants.versions('nope')).rejects.toMatchObject({ status: 404, message: 'Assistant "nope" not found.' });
  });

  it('concurrent updates get distinct versions', async () => {
    const a = await assistants.create({ graph_id: 'g-conc' });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => assistants.update(a.assistant_id, { metadata: { [`k${i}`]: i } })));
    expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7]);
    const final = await assistants.get(a.assistant_id);
    expect(Object.keys(final.metadata).sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
  });

  it('search by graph_id, name, metadata containment; sorting, paging and count', async () => {
    const made = [];
    for (const [name, tier] of [['Alpha bot', 'gold'], ['beta BOT', 'silver'], ['gamma', 'gold']] as const) {
      made.push(await assistants.create({ graph_id: 'g-search', name, metadata: { tier, nested: { a: 1, b: 2 } } }));
    }
    const ids = (list: { assistant_id: string }[]) => list.map((a) => a.assistant_id);
    expect(ids(await assistants.search({ graph_id: 'g-search' }))).toEqual(ids([...made].reverse()));
    expect(ids(await assistants.search({ graph_id: 'g-search', sort_by: 'name', sort_order: 'asc' }))).toEqual(ids(made));
    expect(ids(await assistants.search({ graph_id: 'g-search', name: 'bot', sort_order: 'asc' }))).toEqual(ids(made.slice(0, 2)));
    expect(ids(await assistants.search({ metadata: { tier: 'gold', nested: { a: 1 } }, sort_order: 'asc' }))).toEqual([made[0].assistant_id, made[2].assistant_id]);
    expect(ids(await assistants.search({ graph_id: 'g-search', limit: 1, offset: 1 }))).toEqual([made[1].assistant_id]);
    expect(await assistants.search({ name: '%' })).toEqual([]);
    expect(await assistants.count({ graph_id: 'g-search' })).toBe(3);
    expect(await assistants.count({ graph_id: 'g-search', metadata: { tier: 'gold' } })).toBe(2);
    expect(await assistants.count({ name: 'BOT' })).toBe(2);
  });

  it('delete removes the assistant, its versions and runs, and its threads when asked', async () => {
    const a = await assistants.create({ graph_id: 'g-del' });
    await assistants.update(a.assistant_id, { name: 'v2' });
    await db.pool.query(`INSERT INTO runnel_agent_threads (thread_id, metadata) VALUES ('del-t1', $1::jsonb), ('del-t2', '{}')`, [
      JSON.stringify({ assistant_id: a.assistant_id }),
    ]);
    await db.pool.query(
      `INSERT INTO runnel_agent_runs (run_id, thread_id, assistant_id, status, kwargs, multitask_strategy) VALUES ('del-r1', 'del-t2', $1, 'success', '{}', 'reject')`,
      [a.assistant_id],
    );
    expect(await assistants.delete(a.assistant_id, { deleteThreads: true })).toEqual([a.assistant_id]);
    await expect(assistants.get(a.assistant_id)).rejects.toBeInstanceOf(NotFoundError);
    const left = await db.pool.query(
      `SELECT (SELECT count(*) FROM runnel_agent_assistant_versions WHERE assistant_id = $1)::int AS versions,
              (SELECT count(*) FROM runnel_agent_runs WHERE run_id = 'del-r1')::int AS runs,
              (SELECT array_agg(thread_id) FROM runnel_agent_threads WHERE thread_id LIKE 'del-%') AS threads`,
      [a.assistant_id],
    );
    expect(left.rows[0]).toEqual({ versions: 0, runs: 0, threads: ['del-t2'] });
    expect(deletedThreads).toEqual(['del-t1']);
    await expect(assistants.delete(a.assistant_id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('delete leaves a thread that was busy only with its runs idle', async () => {
    const a = await assistants.create({ graph_id: 'g-busy' });
    await db.pool.query(`INSERT INTO runnel_agent_threads (thread_id, status) VALUES ('busy-t1', 'busy')`);
    await db.pool.query(
      `INSERT INTO runnel_agent_runs (run_id, thread_id, assistant_id, status, kwargs, multitask_strategy) VALUES ('busy-r1', 'busy-t1', $1, 'pending', '{}', 'reject')`,
      [a.assistant_id],
    );
    await assistants.delete(a.assistant_id);
    const { rows } = await db.pool.query(`SELECT status FROM runnel_agent_threads WHERE thread_id = 'busy-t1'`);
    expect(rows[0].status).toBe('idle');
  });
});
