import type { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { PostgresServer } from '@runnel/testing';
import { AgentDatabase } from './agent-database';
import { ThreadRepository } from './thread-repository';
import { ConflictError, NotFoundError } from './storage-errors';

const State = Annotation.Root({ items: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });

/** A two-node graph that appends the input item and '<item>!' (two checkpoints per step). */
function graph(checkpointer: PostgresSaver) {
  return new StateGraph(State)
    .addNode('first', (s: typeof State.State) => ({ items: [`got ${s.items.length}`] }))
    .addNode('second', () => ({ items: ['done'] }))
    .addEdge(START, 'first')
    .addEdge('first', 'second')
    .addEdge('second', END)
    .compile({ checkpointer });
}

describe('ThreadRepository', () => {
  let server: PostgresServer;
  let db: AgentDatabase;
  let checkpointer: PostgresSaver;
  let threads: ThreadRepository;

  beforeAll(async () => {
    server = await PostgresServer.start();
    db = new AgentDatabase(await server.createDatabase('thread_repository_spec'));
    await db.migrate();
    ({ checkpointer } = await db.setupCheckpointer());
    threads = new ThreadRepository(db.pool, checkpointer);
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await server?.stop();
  });

  it('create: a new idle thread; if_exists raise (409) and do_nothing', async () => {
    const t = await threads.create({ metadata: { user: 'u1' } });
    expect(t).toMatchObject({ status: 'idle', metadata: { user: 'u1' }, values: null, interrupts: {}, config: {} });
    expect(t.thread_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.created_at).toBe(t.updated_at);
    expect(new Date(t.created_at).toISOString()).toBe(t.created_at);
    const err = await threads.create({ thread_id: t.thread_id }).catch((e) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ status: 409, message: 'Thread already exists' });
    expect(await threads.create({ thread_id: t.thread_id, metadata: { other: 1 }, if_exists: 'do_nothing' })).toEqual(t);
    expect(await threads.get(t.thread_id)).toEqual(t);
  });

  it('concurrent creates of one id with raise: exactly one succeeds', async () => {
    const id = '5b0c1a1e-0000-4000-8000-000000000001';
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => threads.create({ thread_id: id })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
  });

  it('get of an unknown thread throws NotFoundError (404)', async () => {
    await expect(threads.get('missing')).rejects.toMatchObject({ status: 404, message: 'Thread with ID missing not found' });
    await expect(threads.patch('missing', { metadata: {} })).rejects.toBeInstanceOf(NotFoundError);
    await expect(threads.setStatus('missing', { status: 'idle' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(threads.delete('missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(threads.copy('missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('patch merges metadata (top-level keys replaced) and bumps updated_at', async () => {
    const t = await threads.create({ metadata: { a: 1, nested: { x: 1, y: 2 } } });
    // The wire's timestamps have millisecond precision: let one pass.
    await new Promise((r) => setTimeout(r, 5));
    const p = await threads.patch(t.thread_id, { metadata: { b: 2, nested: { x: 3 } } });
    expect(p.metadata).toEqual({ a: 1, b: 2, nested: { x: 3 } });
    expect(p.updated_at > t.updated_at).toBe(true);
    expect(p.created_at).toBe(t.created_at);
  });

  it('setStatus sets status, values and interrupts; undefined keeps them', async () => {
    const t = await threads.create();
    await threads.setStatus(t.thread_id, { status: 'interrupted', values: { items: ['a'] }, interrupts: { task1: [{ id: 'i', value: 'q?' }] } });
    expect(await threads.get(t.thread_id)).toMatchObject({ status: 'interrupted', values: { items: ['a'] }, interrupts: { task1: [{ id: 'i', value: 'q?' }] } });
    await threads.setStatus(t.thread_id, { status: 'error' });
    expect(await threads.get(t.thread_id)).toMatchObject({ status: 'error', values: { items: ['a'] }, interrupts: { task1: [{ id: 'i', value: 'q?' }] } });
    await threads.setStatus(t.thread_id, { status: 'idle', values: null, interrupts: {} });
    expect(await threads.get(t.thread_id)).toMatchObject({ status: 'idle', values: null, interrupts: {} });
    // Arrays are stored as JSON arrays, not PostgreSQL arrays.
    await threads.setStatus(t.thread_id, { status: 'idle', values: [1, 'two'] });
    expect((await threads.get(t.thread_id)).values).toEqual([1, 'two']);
  });

  it('search: metadata containment, values containment, status, ids, sorting and paging; count', async () => {
    const tag = `search-${Date.now()}`;
    const made = [];
    for (let i = 0; i < 4; i++) made.push(await threads.create({ metadata: { tag, i, parity: i % 2 ? 'odd' : 'even', deep: { n: i % 2 } } }));
    await threads.setStatus(made[1].thread_id, { status: 'busy', values: { items: ['x', 'y'], n: 1 } });
    await threads.setStatus(made[3].thread_id, { status: 'interrupted', values: { items: ['y'] } });
    const ids = (list: { thread_id: string }[]) => list.map((t) => t.thread_id);
    expect(ids(await threads.search({ metadata: { tag } }))).toEqual(ids([...made].reverse()));
    expect(ids(await threads.search({ metadata: { tag }, sort_order: 'asc' }))).toEqual(ids(made));
    expect(ids(await threads.search({ metadata: { tag, deep: { n: 1 } }, sort_order: 'asc' }))).toEqual(ids([made[1], made[3]]));
    expect(ids(await threads.search({ metadata: { tag }, status: 'busy' }))).toEqual([made[1].thread_id]);
    expect(ids(await threads.search({ metadata: { tag }, values: { items: ['y'] }, sort_order: 'asc' }))).toEqual(ids([made[1], made[3]]));
    expect(ids(await threads.search({ ids: [made[0].thread_id, made[2].thread_id, 'nope'], sort_order: 'asc' }))).toEqual(ids([made[0], made[2]]));
    expect(ids(await threads.search({ metadata: { tag }, limit: 2, offset: 1, sort_order: 'asc' }))).toEqual(ids(made.slice(1, 3)));
    expect(ids(await threads.search({ metadata: { tag }, sort_by: 'updated_at', sort_order: 'desc', limit: 2 }))).toEqual(ids([made[3], made[1]]));
    expect(await threads.count({ metadata: { tag } })).toBe(4);
    expect(await threads.count({ metadata: { tag, parity: 'even' } })).toBe(2);
    expect(await threads.count({ metadata: { tag }, status: 'interrupted' })).toBe(1);
  });

  it('delete removes the thread, its runs and its checkpoints', async () => {
    const t = await threads.create();
    const config = { configurable: { thread_id: t.thread_id } };
    await graph(checkpointer).invoke({ items: ['hi'] }, config);
    await db.pool.query(
      `INSERT INTO runnel_agent_runs (run_id, thread_id, assistant_id, status, kwargs, multitask_strategy) VALUES ($1, $2, 'a', 'success', '{}', 'reject')`,
      [`run-of-${t.thread_id}`, t.thread_id],
    );
    expect(await checkpointer.getTuple(config)).toBeDefined();
    await threads.delete(t.thread_id);
    await expect(threads.get(t.thread_id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await checkpointer.getTuple(config)).toBeUndefined();
    const { rows } = await db.pool.query('SELECT 1 FROM runnel_agent_runs WHERE thread_id = $1', [t.thread_id]);
    expect(rows).toHaveLength(0);
  });

  it('copy: a new thread with the metadata, values and every checkpoint, that continues on its own', async () => {
    const source = await threads.create({ metadata: { owner: 'me' } });
    const from = { configurable: { thread_id: source.thread_id } };
    const g = graph(checkpointer);
    await g.invoke({ items: ['one'] }, from);
    const state = await g.invoke({ items: ['two'] }, from);
    await threads.setStatus(source.thread_id, { status: 'idle', values: state });

    const copy = await threads.copy(source.thread_id);
    expect(copy.thread_id).not.toBe(source.thread_id);
    expect(copy).toMatchObject({ status: 'idle', metadata: { owner: 'me', thread_id: copy.thread_id }, values: state });
    expect(await threads.get(copy.thread_id)).toEqual(copy);

    const to = { configurable: { thread_id: copy.thread_id } };
    const history = async (config: typeof from) => {
      const list = [];
      for await (const s of g.getStateHistory(config)) list.push({ values: s.values, next: s.next, step: s.metadata?.step, id: s.config.configurable?.checkpoint_id });
      return list;
    };
    const sourceHistory = await history(from);
    expect(sourceHistory.length).toBeGreaterThanOrEqual(8);
    expect(await history(to)).toEqual(sourceHistory);
    expect((await g.getState(to)).values).toEqual(state);

    // The copy moves on without touching the source.
    await g.invoke({ items: ['three'] }, to);
    expect((await g.getState(to)).values.items).toEqual([...state.items, 'three', 'got 7', 'done']);
    expect((await g.getState(from)).values).toEqual(state);
    // Deleting the source leaves the copy's checkpoints.
    await threads.delete(source.thread_id);
    expect((await g.getState(to)).values.items).toHaveLength(9);
  });
});
