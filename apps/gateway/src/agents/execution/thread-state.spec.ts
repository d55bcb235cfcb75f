import { MemorySaver } from '@langchain/langgraph';
import { loadFixture } from './fixtures/load-fixture';
import { bindGraph, type CompiledGraph } from './graph-binding';
import { checkpointOf, taskCheckpointOf, threadUpdateAfterRun, toThreadState } from './thread-state';

const load = (file: string) => loadFixture<{ graph: CompiledGraph }>(file).graph;
const thread = (id: string) => ({ configurable: { thread_id: id } });

describe('checkpointOf', () => {
  it('needs a thread id and a checkpoint id; ns defaults to "", map to null', () => {
    expect(checkpointOf({ configurable: { thread_id: 't', checkpoint_id: 'c' } })).toEqual({ thread_id: 't', checkpoint_id: 'c', checkpoint_ns: '', checkpoint_map: null });
    expect(checkpointOf({ configurable: { thread_id: 't', checkpoint_id: 'c', checkpoint_ns: 'n', checkpoint_map: { '': 'x' }, other: 1 } })).toEqual({
      thread_id: 't',
      checkpoint_id: 'c',
      checkpoint_ns: 'n',
      checkpoint_map: { '': 'x' },
    });
    expect(checkpointOf({ configurable: { thread_id: 't' } })).toBeNull();
    expect(checkpointOf({ configurable: { checkpoint_id: 'c' } })).toBeNull();
    expect(checkpointOf({ configurable: { thread_id: 't', checkpoint_id: 3 } })).toBeNull();
    expect(checkpointOf(undefined)).toBeNull();
    expect(taskCheckpointOf({ configurable: { thread_id: 't', checkpoint_ns: 'sub:1' } })).toEqual({ thread_id: 't', checkpoint_id: null, checkpoint_ns: 'sub:1', checkpoint_map: null });
  });
});

describe('toThreadState', () => {
  it('a finished two-node run', async () => {
    const graph = await bindGraph(load('two-node.mjs'), { checkpointer: new MemorySaver() });
    await graph.invoke({ count: 1 }, thread('t'));
    const snapshot = await graph.getState(thread('t'));
    const state = toThreadState(snapshot);
    expect(state).toEqual({
      values: { count: 4, trace: ['a', 'b'] },
      next: [],
      tasks: [],
      metadata: expect.objectContaining({ source: 'loop', step: 2 }),
      created_at: new Date(snapshot.createdAt!).toISOString(),
      checkpoint: { thread_id: 't', checkpoint_id: snapshot.config.configurable!.checkpoint_id, checkpoint_ns: '', checkpoint_map: null },
      parent_checkpoint: { thread_id: 't', checkpoint_id: snapshot.parentConfig!.configurable!.checkpoint_id, checkpoint_ns: '', checkpoint_map: null },
    });
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('an interrupted run: the pending task with its interrupt', async () => {
    const graph = await bindGraph(load('interrupting.mjs'), { checkpointer: new MemorySaver() });
    await graph.invoke({ question: 'name?' }, thread('i'));
    const state = toThreadState(await graph.getState(thread('i')));
    expect(state.next).toEqual(['ask']);
    expect(state.tasks).toEqual([
      {
        id: expect.any(String),
        name: 'ask',
        error: null,
        interrupts: [{ id: expect.any(String), value: { question: 'name?' } }],
        path: ['__pregel_pull', 'ask'],
        checkpoint: null,
        state: null,
        result: null,
      },
    ]);
  });

  it('a failed task: its error message', () => {
    const state = toThreadState({
      values: {},
      next: ['n'],
      tasks: [{ id: 'x', name: 'n', interrupts: [], error: new Error('boom'), path: ['__pregel_pull', 'n'] }],
      config: {},
      metadata: undefined,
      createdAt: undefined,
      parentConfig: undefined,
    } as never);
    expect(state.tasks[0].error).toBe('boom');
    expect(state.created_at).toBeNull();
    expect(state.checkpoint).toBeNull();
  });
});

describe('threadUpdateAfterRun', () => {
  it('idle after a finished run, interrupted (interrupts by task id) at an interrupt, error when given one', async () => {
    const saver = new MemorySaver();
    const two = await bindGraph(load('two-node.mjs'), { checkpointer: saver });
    await two.invoke({ count: 1 }, thread('a'));
    expect(await threadUpdateAfterRun(two, thread('a'))).toEqual({ status: 'idle', values: { count: 4, trace: ['a', 'b'] }, interrupts: {} });
    expect((await threadUpdateAfterRun(two, thread('a'), new Error('x'))).status).toBe('error');
    expect(await threadUpdateAfterRun(two, thread('none'))).toEqual({ status: 'idle', values: null, interrupts: {} });

    const asking = await bindGraph(load('interrupting.mjs'), { checkpointer: saver });
    await asking.invoke({ question: 'q?' }, thread('b'));
    const update = await threadUpdateAfterRun(asking, thread('b'));
    const taskId = (await asking.getState(thread('b'))).tasks[0].id;
    expect(update).toEqual({ status: 'interrupted', values: { question: 'q?' }, interrupts: { [taskId]: [{ id: expect.any(String), value: { question: 'q?' } }] } });
  });

  it('interrupted by interrupt_before too', async () => {
    const graph = await bindGraph(load('two-node.mjs'), { checkpointer: new MemorySaver() });
    await graph.invoke({ count: 1 }, { ...thread('c'), interruptBefore: ['b'] });
    const update = await threadUpdateAfterRun(graph, thread('c'));
    expect(update.status).toBe('interrupted');
    expect(update.values).toEqual({ count: 2, trace: ['a'] });
    expect(Object.values(update.interrupts)).toEqual([[]]);
  });
});
