import { randomUUID } from 'node:crypto';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { emptyCheckpoint, type PendingWrite } from '@langchain/langgraph-checkpoint';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { PostgresServer } from '@runnel/testing';
import { AgentDatabase } from './agent-database';
import { RunRepository } from './run-repository';
import { RunStampedSaver } from './run-stamped-saver';
import { ThreadRepository } from './thread-repository';

const State = Annotation.Root({ n: Annotation<number>() });
const builder = new StateGraph(State).addNode('inc', (s) => ({ n: s.n + 1 })).addEdge(START, 'inc').addEdge('inc', END);

describe('RunStampedSaver', () => {
  let server: PostgresServer;
  let db: AgentDatabase;

  beforeAll(async () => {
    server = await PostgresServer.start();
    db = new AgentDatabase(await server.createDatabase('run_stamped_saver_spec'));
    await db.migrate();
  }, 60_000);
  afterAll(async () => {
    await db.close();
    await server.stop();
  });

  it("stamps each checkpoint with the run that wrote it, so deleting a run's checkpoints rolls its thread back", async () => {
    const { checkpointer } = await db.setupCheckpointer();
    const threads = new ThreadRepository(db.pool, checkpointer);
    const runs = new RunRepository(db.pool);
    const thread = await threads.create();
    const graph = builder.compile({ checkpointer });
    const assistant = { assistant_id: 'a', graph_id: 'g', config: {}, context: {}, metadata: {} };
    const first = (await runs.create({ thread_id: thread.thread_id, assistant, kwargs: { stream_mode: ['values'], config: {} } })).run;
    await graph.invoke({ n: 1 }, { configurable: { thread_id: thread.thread_id, run_id: first.run_id } });
    await runs.finish(first.run_id, 'success');
    const second = (await runs.create({ thread_id: thread.thread_id, assistant, kwargs: { stream_mode: ['values'], config: {} } })).run;
    await graph.invoke({ n: 10 }, { configurable: { thread_id: thread.thread_id, run_id: second.run_id } });
    await runs.finish(second.run_id, 'success');

    const stamps: unknown[] = [];
    for await (const t of checkpointer.list({ configurable: { thread_id: thread.thread_id } })) stamps.push((t.metadata as Record<string, unknown> | undefined)?.run_id);
    expect(stamps.filter((s) => s === first.run_id).length).toBe(3);
    expect(stamps.filter((s) => s === second.run_id).length).toBe(3);
    expect((await graph.getState({ configurable: { thread_id: thread.thread_id } })).values).toEqual({ n: 11 });

    await runs.delete(second.run_id, thread.thread_id);
    expect((await graph.getState({ configurable: { thread_id: thread.thread_id } })).values).toEqual({ n: 2 });
  });

  it("writes exactly PostgresSaver's rows (blobs, checkpoint, writes), each put and putWrites in one statement", async () => {
    await db.setupCheckpointer();
    const ours = new RunStampedSaver(db.pool);
    const theirs = new PostgresSaver(db.pool);
    const checkpoint = { ...emptyCheckpoint(), channel_values: { a: 1, b: 'x', m: [{ role: 'user', content: 'hi' }] }, channel_versions: { a: 1, b: 2, m: 1, gone: 3 } };
    const versions = { a: 1, b: 2, m: 1, gone: 3 };
    const writeSets: Array<[PendingWrite[], string]> = [
      [[['a', 5], ['b', 'y']], 'task-1'],
      [[['__error__', { message: 'boom' }], ['__interrupt__', [{ value: 'ask' }]]], 'task-2'],
      // The same index twice (PostgresSaver's upsert: the later one wins): one statement could not.
      [[['__resume__', 'first'], ['__resume__', 'second']], 'task-3'],
      [[['a', 6]], 'task-1'],
    ];
    const subId = randomUUID();
    const write = async (saver: PostgresSaver, threadId: string) => {
      const saved = await saver.put({ configurable: { thread_id: threadId, checkpoint_ns: '' } }, checkpoint, { source: 'loop', step: 1, parents: {} }, versions);
      // No new versions: the checkpoint alone.
      await saver.put({ configurable: { thread_id: threadId, checkpoint_ns: 'sub:1' } }, { ...checkpoint, id: subId }, { source: 'loop', step: 2, parents: {} }, {});
      for (const [writes, taskId] of writeSets) await saver.putWrites(saved, writes, taskId);
      return saved;
    };
    const [a, b] = [randomUUID(), randomUUID()];
    const savedOurs = await write(ours, a);
    const savedTheirs = await write(theirs, b);
    expect(savedOurs.configurable).toEqual({ ...savedTheirs.configurable, thread_id: a });
    const rows = async (threadId: string) => {
      const q = async (sql: string) => (await db.pool.query(sql, [threadId])).rows.map(({ thread_id: _t, checkpoint_id: _c, ...rest }) => rest);
      return {
        blobs: await q('SELECT * FROM checkpoint_blobs WHERE thread_id = $1 ORDER BY checkpoint_ns, channel, version'),
        checkpoints: await q('SELECT * FROM checkpoints WHERE thread_id = $1 ORDER BY checkpoint_ns'),
        writes: await q('SELECT * FROM checkpoint_writes WHERE thread_id = $1 ORDER BY task_id, idx'),
      };
    };
    const [x, y] = [await rows(a), await rows(b)];
    expect(x.blobs).toHaveLength(4);
    expect(x.writes.map((w) => [w.task_id, w.idx, w.channel])).toEqual([
      ['task-1', 0, 'a'],
      ['task-1', 1, 'b'],
      ['task-2', -3, '__interrupt__'],
      ['task-2', -1, '__error__'],
      ['task-3', -4, '__resume__'],
    ]);
    expect(x).toEqual(y);
    const tuple = await ours.getTuple(savedOurs);
    expect(tuple?.checkpoint.channel_values).toEqual({ a: 1, b: 'x', m: [{ role: 'user', content: 'hi' }] });
    expect(tuple?.pendingWrites).toEqual((await theirs.getTuple(savedTheirs))?.pendingWrites);
  });
});
