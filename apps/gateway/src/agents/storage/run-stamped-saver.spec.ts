import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { PostgresServer } from '@runnel/testing';
import { AgentDatabase } from './agent-database';
import { RunRepository } from './run-repository';
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
});
