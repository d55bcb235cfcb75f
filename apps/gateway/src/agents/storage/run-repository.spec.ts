import type { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { emptyCheckpoint } from '@langchain/langgraph-checkpoint';
import { PostgresServer } from '@runnel/testing';
import type { Assistant, RunKwargs } from '../agent-types';
import { AgentDatabase } from './agent-database';
import { RunRepository, type NewRun } from './run-repository';
import { NotFoundError, ThreadBusyError } from './storage-errors';
import { ThreadRepository } from './thread-repository';

const assistant: Pick<Assistant, 'assistant_id' | 'graph_id' | 'config' | 'context' | 'metadata'> = {
  assistant_id: 'asst-1',
  graph_id: 'agent',
  config: { tags: ['a'], configurable: { model: 'm1', temperature: 0 } },
  context: { tone: 'dry' },
  metadata: { created_by: 'system' },
};
const kwargs = (extra: Partial<RunKwargs> = {}): RunKwargs => ({ input: { items: ['hi'] }, stream_mode: ['values'], config: {}, ...extra });
const newRun = (threadId: string | undefined, extra: Partial<NewRun> = {}): NewRun => ({ thread_id: threadId, assistant, kwargs: kwargs(), ...extra });

/** What a claim came to (the worker's claimRun, without the row). */
const claimed = async (repo: RunRepository, runId: string, workerId?: string) => (await repo.claimRun(runId, workerId)).result;

describe('RunRepository', () => {
  let server: PostgresServer;
  let url: string;
  let db: AgentDatabase;
  let other: AgentDatabase; // a second replica's pool
  let checkpointer: PostgresSaver;
  let runs: RunRepository;
  let runs2: RunRepository;
  let threads: ThreadRepository;

  beforeAll(async () => {
    server = await PostgresServer.start();
    url = await server.createDatabase('run_repository_spec');
    db = new AgentDatabase(url);
    other = new AgentDatabase(url);
    await db.migrate();
    ({ checkpointer } = await db.setupCheckpointer());
    runs = new RunRepository(db.pool);
    runs2 = new RunRepository(other.pool);
    threads = new ThreadRepository(db.pool, checkpointer);
  }, 60_000);

  afterAll(async () => {
    await other?.close();
    await db?.close();
    await server?.stop();
  });

  it('create on a thread: pending run, thread busy, configs and metadata merged', async () => {
    const t = await threads.create({ metadata: { owner: 'me' } });
    const { run, inflight } = await runs.create(
      newRun(t.thread_id, {
        metadata: { req: 1 },
        user_id: 'u-auth',
        kwargs: kwargs({ config: { tags: ['b'], configurable: { model: 'm2' } }, context: { lang: 'en' } }),
      }),
      { multitaskStrategy: 'reject' },
    );
    expect(inflight).toEqual([]);
    expect(run).toMatchObject({ thread_id: t.thread_id, assistant_id: 'asst-1', status: 'pending', multitask_strategy: 'reject' });
    expect(run.metadata).toEqual({ created_by: 'system', owner: 'me', graph_id: 'agent', assistant_id: 'asst-1', req: 1 });
    expect(run.kwargs.config).toEqual({
      tags: ['b'],
      configurable: { model: 'm2', temperature: 0, run_id: run.run_id, thread_id: t.thread_id, graph_id: 'agent', assistant_id: 'asst-1', user_id: 'u-auth' },
      metadata: run.metadata,
    });
    expect(run.kwargs.context).toEqual({ tone: 'dry', lang: 'en' });
    expect(run.kwargs.input).toEqual({ items: ['hi'] });
    expect(await runs.get(run.run_id, t.thread_id)).toEqual(run);
    const thread = await threads.get(t.thread_id);
    expect(thread).toMatchObject({ status: 'busy', metadata: { owner: 'me', graph_id: 'agent', assistant_id: 'asst-1' } });
    expect(thread.config?.configurable).toEqual({ model: 'm2', temperature: 0 });
  });

  it('a missing thread: NotFoundError (404) with reject, created with create, created when no thread id', async () => {
    const missing = '00000000-0000-4000-8000-00000000aaaa';
    const err = await runs.create(newRun(missing)).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.status).toBe(404);
    await expect(threads.get(missing)).rejects.toBeInstanceOf(NotFoundError);

    const { run } = await runs.create(newRun(missing, { metadata: { m: 1 } }), { ifNotExists: 'create' });
    expect(run.thread_id).toBe(missing);
    expect(await threads.get(missing)).toMatchObject({ status: 'busy', metadata: { graph_id: 'agent', assistant_id: 'asst-1', m: 1 } });

    const stateless = await runs.create(newRun(undefined));
    expect(stateless.run.thread_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await threads.get(stateless.run.thread_id)).status).toBe('busy');
  });

  it("'reject' from two replicas at once on one thread: exactly one run is created", async () => {
    for (const fresh of [false, true]) {
      const threadId = fresh ? `fresh-${Date.now()}` : (await threads.create()).thread_id;
      const opts = { multitaskStrategy: 'reject' as const, ifNotExists: 'create' as const };
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? runs : runs2).create(newRun(threadId), opts)),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(ThreadBusyError);
        expect(r.reason).toMatchObject({ status: 422, message: 'Thread is already running a task. Wait for it to finish or choose a different multitask strategy.' });
      }
      expect(await runs.list(threadId)).toHaveLength(1);
    }
  });

  it("'enqueue', 'interrupt' and 'rollback' insert and return the inflight runs, oldest first", async () => {
    const t = await threads.create();
    const first = (await runs.create(newRun(t.thread_id))).run;
    const second = await runs.create(newRun(t.thread_id), { multitaskStrategy: 'enqueue' });
    expect(second.inflight.map((r) => r.run_id)).toEqual([first.run_id]);
    const third = await runs.create(newRun(t.thread_id), { multitaskStrategy: 'interrupt' });
    expect(third.inflight.map((r) => r.run_id)).toEqual([first.run_id, second.run.run_id]);
    expect(third.run.multitask_strategy).toBe('interrupt');
    expect((await runs.inflight(t.thread_id)).map((r) => r.run_id)).toEqual([first.run_id, second.run.run_id, third.run.run_id]);
    expect((await runs.list(t.thread_id)).map((r) => r.run_id)).toEqual([third.run.run_id, second.run.run_id, first.run_id]);
    expect((await runs.list(t.thread_id, { limit: 1, offset: 1 })).map((r) => r.run_id)).toEqual([second.run.run_id]);
  });

  it('claimRun answers the claimed row; concurrent claims and finishes on a thread from two pools: one running at a time, oldest first, no deadlock', async () => {
    const t = await threads.create();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await runs.create(newRun(t.thread_id), { multitaskStrategy: 'enqueue' })).run.run_id);
    const claim = await runs.claimRun(ids[0], 'w1');
    expect(claim.result).toBe('claimed');
    expect(claim.run).toMatchObject({ run_id: ids[0], thread_id: t.thread_id, status: 'running' });
    expect(await runs.claimRun(ids[1])).toEqual({ result: 'wait' });
    expect(await runs.claimRun('no-such-run')).toEqual({ result: 'gone' });
    expect(await runs.finish(ids[0], 'success')).toBe(ids[1]);

    const order: string[] = [];
    const worker = async (repo: RunRepository, name: string) => {
      while (order.length < ids.length - 1) {
        for (const id of ids.slice(1)) {
          const { result, run } = await repo.claimRun(id, name);
          if (result !== 'claimed') continue;
          order.push(run!.run_id);
          expect((await repo.inflight(t.thread_id)).filter((r) => r.status === 'running').map((r) => r.run_id)).toEqual([id]);
          await repo.finish(id, 'success', { status: 'idle', values: { last: id } });
        }
      }
    };
    await Promise.all([worker(runs, 'w1'), worker(runs2, 'w2'), worker(runs, 'w3')]);
    expect(order).toEqual(ids.slice(1));
    expect(await threads.get(t.thread_id)).toMatchObject({ status: 'idle', values: { last: ids[5] } });
  });

  it("claim and finish (one round trip each, values inlined as literals): quotes, backslashes and unicode kept; a failing finish changes nothing", async () => {
    const t = await threads.create();
    const odd = `it's a \\ "test" ' ; COMMIT; -- é 🚀`;
    const run = (await runs.create(newRun(t.thread_id))).run;
    expect((await runs.claimRun(run.run_id, odd)).result).toBe('claimed');
    // A NUL escape is a value jsonb refuses: the whole finish is rolled back.
    await expect(runs.finish(run.run_id, 'success', { values: { bad: '\u0000' } })).rejects.toThrow();
    expect((await runs.get(run.run_id)).status).toBe('running');
    expect((await threads.get(t.thread_id)).status).toBe('busy');
    expect(await runs.finish(run.run_id, 'success', { values: { odd, nested: [odd, null, 1.5] }, interrupts: { [odd]: [{ value: odd }] } })).toBeNull();
    expect(await threads.get(t.thread_id)).toMatchObject({ status: 'idle', values: { odd, nested: [odd, null, 1.5] }, interrupts: { [odd]: [{ value: odd }] } });
    expect((await runs.get(run.run_id)).status).toBe('success');
    expect(await runs.claimRun(`x'; DROP TABLE runnel_agent_runs; --`)).toEqual({ result: 'gone' });
  });

  it('claim: one running run per thread, oldest first; finish hands over to the next pending', async () => {
    const t = await threads.create();
    const a = (await runs.create(newRun(t.thread_id))).run;
    const b = (await runs.create(newRun(t.thread_id), { multitaskStrategy: 'enqueue' })).run;
    const c = (await runs.create(newRun(t.thread_id), { multitaskStrategy: 'enqueue' })).run;

    expect(await claimed(runs, b.run_id)).toBe('wait'); // a is older and pending
    const both = await Promise.all([claimed(runs, a.run_id, 'w1'), claimed(runs2, a.run_id, 'w2')]);
    expect(both.sort()).toEqual(['claimed', 'gone']);
    expect((await runs.get(a.run_id)).status).toBe('running');
    expect(await claimed(runs2, b.run_id)).toBe('wait'); // a is running
    expect(await claimed(runs, 'no-such-run')).toBe('gone');

    const next = await runs.finish(a.run_id, 'success', { status: 'idle', values: { items: ['a'] }, interrupts: {} });
    expect(next).toBe(b.run_id);
    expect((await runs.get(a.run_id)).status).toBe('success');
    // b and c pending: the thread stays busy, with a's values.
    expect(await threads.get(t.thread_id)).toMatchObject({ status: 'busy', values: { items: ['a'] } });
    expect(await claimed(runs, a.run_id)).toBe('gone');

    expect(await claimed(runs, c.run_id)).toBe('wait');
    expect(await claimed(runs, b.run_id)).toBe('claimed');
    expect(await runs.finish(b.run_id, 'success', { status: 'interrupted', interrupts: { task: [{ value: 'q' }] } })).toBe(c.run_id);
    expect(await threads.get(t.thread_id)).toMatchObject({ status: 'interrupted', values: { items: ['a'] }, interrupts: { task: [{ value: 'q' }] } });

    expect(await claimed(runs, c.run_id)).toBe('claimed');
    expect(await runs.finish(c.run_id, 'error', { status: 'error' })).toBeNull();
    expect((await threads.get(t.thread_id)).status).toBe('error');
    expect(await runs.nextPending(t.thread_id)).toBeNull();
    expect(await runs.finish('no-such-run', 'success')).toBeNull();
  });

  it('claim waits for a run that is not due yet (after_seconds)', async () => {
    const t = await threads.create();
    const { run } = await runs.create(newRun(t.thread_id), { afterSeconds: 60 });
    expect(new Date(run.created_at).getTime() - Date.now()).toBeGreaterThan(50_000);
    expect(await claimed(runs, run.run_id)).toBe('wait');
    const soon = (await runs.create(newRun(t.thread_id), { multitaskStrategy: 'enqueue', afterSeconds: 0 })).run;
    // Due earlier, so it goes first.
    expect(await claimed(runs, soon.run_id)).toBe('claimed');
    expect(await runs.finish(soon.run_id, 'success')).toBe(run.run_id);
  });

  it('requestCancel: pending runs interrupted or deleted here, running ones returned', async () => {
    const t = await threads.create();
    const a = (await runs.create(newRun(t.thread_id))).run;
    const b = (await runs.create(newRun(t.thread_id), { multitaskStrategy: 'enqueue' })).run;
    const c = (await runs.create(newRun(t.thread_id), { multitaskStrategy: 'enqueue' })).run;
    expect(await claimed(runs, a.run_id)).toBe('claimed');

    await expect(runs.requestCancel(t.thread_id, [b.run_id, 'nope'])).rejects.toMatchObject({ status: 404, message: 'Run not found' });
    expect((await runs.get(b.run_id)).status).toBe('pending'); // nothing changed

    expect(await runs.requestCancel(t.thread_id, [a.run_id, b.run_id], 'interrupt')).toEqual({ running: [a.run_id], cancelled: [b.run_id] });
    expect((await runs.get(b.run_id)).status).toBe('interrupted');
    expect(await claimed(runs, b.run_id)).toBe('gone');
    expect(await runs.requestCancel(t.thread_id, [c.run_id], 'rollback')).toEqual({ running: [], cancelled: [c.run_id] });
    expect(await runs.find(c.run_id)).toBeNull();
    expect((await threads.get(t.thread_id)).status).toBe('busy'); // a still runs
    expect(await runs.finish(a.run_id, 'interrupted')).toBeNull();
    expect((await threads.get(t.thread_id)).status).toBe('idle');

    // Cancelling the only pending run leaves the thread idle.
    const d = (await runs.create(newRun(t.thread_id))).run;
    expect(await runs.requestCancel(t.thread_id, [d.run_id])).toEqual({ running: [], cancelled: [d.run_id] });
    expect((await threads.get(t.thread_id)).status).toBe('idle');
  });

  it('delete removes the run and the checkpoints it wrote', async () => {
    const t = await threads.create();
    const a = (await runs.create(newRun(t.thread_id))).run;
    const put = (id: string, runId: string) =>
      checkpointer.put({ configurable: { thread_id: t.thread_id, checkpoint_ns: '' } }, { ...emptyCheckpoint(), id }, { source: 'loop', step: 0, parents: {}, run_id: runId } as never, {});
    await put('1ef00000-0000-6000-8000-000000000001', 'earlier-run');
    const mine = await put('1ef00000-0000-6000-8000-000000000002', a.run_id);
    await checkpointer.putWrites(mine, [['items', ['x']]], 'task-1');

    await expect(runs.delete(a.run_id, 'other-thread')).rejects.toBeInstanceOf(NotFoundError);
    await runs.delete(a.run_id, t.thread_id);
    await expect(runs.get(a.run_id)).rejects.toMatchObject({ status: 404, message: 'Run not found' });
    const ids = [];
    for await (const tuple of checkpointer.list({ configurable: { thread_id: t.thread_id } })) ids.push(tuple.checkpoint.id);
    expect(ids).toEqual(['1ef00000-0000-6000-8000-000000000001']);
    const { rows } = await db.pool.query('SELECT 1 FROM checkpoint_writes WHERE thread_id = $1', [t.thread_id]);
    expect(rows).toHaveLength(0);
    expect((await threads.get(t.thread_id)).status).toBe('idle'); // nothing left inflight
    await expect(runs.delete(a.run_id, t.thread_id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("requeueIfRunning puts a lost worker's running run back to pending, and leaves a finished one finished", async () => {
    const t = await threads.create();
    const a = (await runs.create(newRun(t.thread_id))).run;
    expect(await claimed(runs, a.run_id, 'dead-worker')).toBe('claimed');
    await runs.requeueIfRunning(a.run_id);
    expect((await runs.get(a.run_id)).status).toBe('pending');
    expect(await claimed(runs2, a.run_id, 'new-worker')).toBe('claimed');
    await runs.finish(a.run_id, 'success');
    await runs.requeueIfRunning(a.run_id); // the old worker was only stalled: it must not run again
    expect((await runs.get(a.run_id)).status).toBe('success');
  });

  it('deleting a thread takes its runs with it; claim and finish then find nothing', async () => {
    const t = await threads.create();
    const a = (await runs.create(newRun(t.thread_id))).run;
    expect(await claimed(runs, a.run_id)).toBe('claimed');
    await threads.delete(t.thread_id);
    expect(await runs.find(a.run_id)).toBeNull();
    expect(await runs.finish(a.run_id, 'success')).toBeNull();
    expect(await claimed(runs, a.run_id)).toBe('gone');
  });
});
