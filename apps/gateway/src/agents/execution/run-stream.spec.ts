import { Annotation, END, MemorySaver, START, StateGraph } from '@langchain/langgraph';
import type { AgentEvent, Run, RunKwargs } from '../agent-types';
import { loadFixture } from './fixtures/load-fixture';
import { bindGraph, type CompiledGraph } from './graph-binding';
import { executeRun, toCommand, type CheckpointPayload } from './run-stream';
import { serializeEvent } from './serialize-event';

const load = (file: string) => loadFixture<{ graph: CompiledGraph }>(file).graph;
let n = 0;

function runOf(kwargs: Partial<RunKwargs>, threadId = `thread-${++n}`): Run {
  return {
    run_id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    thread_id: threadId,
    assistant_id: 'a',
    created_at: '',
    updated_at: '',
    status: 'running',
    metadata: {},
    multitask_strategy: 'reject',
    kwargs: { stream_mode: ['values'], config: { configurable: { thread_id: threadId } }, ...kwargs },
  };
}

async function collect(run: Run, graph: CompiledGraph, extra: Partial<Parameters<typeof executeRun>[1]> = {}): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const e of executeRun(run, { graph, attempt: 1, ...extra })) events.push({ event: e.event, data: JSON.parse(serializeEvent(e)) });
  return events;
}

describe('executeRun', () => {
  it('metadata first, then values and updates per step', async () => {
    const graph = await bindGraph(load('two-node.mjs'), { checkpointer: new MemorySaver() });
    const run = runOf({ input: { count: 1 }, stream_mode: ['values', 'updates'] });
    expect(await collect(run, graph, { attempt: 2 })).toEqual([
      { event: 'metadata', data: { run_id: run.run_id, attempt: 2 } },
      { event: 'values', data: { count: 1, trace: [] } },
      { event: 'updates', data: { a: { count: 2, trace: ['a'] } } },
      { event: 'values', data: { count: 2, trace: ['a'] } },
      { event: 'updates', data: { b: { count: 4, trace: ['b'] } } },
      { event: 'values', data: { count: 4, trace: ['a', 'b'] } },
    ]);
  });

  it('debug, tasks, checkpoints: payloads with checkpoint/parent_checkpoint, no internal config; onCheckpoint sees each', async () => {
    const graph = await bindGraph(load('two-node.mjs'), { checkpointer: new MemorySaver() });
    const run = runOf({ input: { count: 1 }, stream_mode: ['debug', 'tasks', 'checkpoints'], config: { tags: ['x'], configurable: { thread_id: 'dbg', mine: 1 } } });
    const seen: CheckpointPayload[] = [];
    const events = await collect(run, graph, { onCheckpoint: (c) => seen.push(c) });
    const checkpoints = events.filter((e) => e.event === 'checkpoints').map((e) => e.data as CheckpointPayload);
    expect(checkpoints.map((c) => c.next)).toEqual([['__start__'], ['a'], ['b'], []]);
    // Once from `debug` (always streamed, for this) and once from `checkpoints`, as the reference.
    expect(seen.map((c) => c.checkpoint?.checkpoint_id)).toEqual(checkpoints.flatMap((c) => [c.checkpoint?.checkpoint_id, c.checkpoint?.checkpoint_id]));
    const onlyDebug: CheckpointPayload[] = [];
    await collect(runOf({ input: { count: 1 }, stream_mode: ['values'] }), graph, { onCheckpoint: (c) => onlyDebug.push(c) });
    expect(onlyDebug.map((c) => c.next)).toEqual([['__start__'], ['a'], ['b'], []]);
    const last = checkpoints.at(-1)!;
    expect(last.checkpoint).toEqual({ thread_id: 'dbg', checkpoint_id: expect.any(String), checkpoint_ns: '', checkpoint_map: null });
    expect(last.parent_checkpoint?.checkpoint_id).toBe(checkpoints.at(-2)!.checkpoint?.checkpoint_id);
    expect(Object.keys((last.config as { configurable: object }).configurable).sort()).toEqual(['checkpoint_id', 'checkpoint_ns', 'mine', 'thread_id']);
    expect(Object.keys((last.parent_config as { configurable: object }).configurable).every((k) => !k.startsWith('__'))).toBe(true);
    expect(last).not.toHaveProperty('parentConfig');
    expect(JSON.stringify(events)).not.toContain('callbacks');
    const debugTypes = events.filter((e) => e.event === 'debug').map((e) => (e.data as { type: string }).type);
    expect(debugTypes).toEqual(['checkpoint', 'checkpoint', 'task', 'task_result', 'checkpoint', 'task', 'task_result', 'checkpoint']);
    const tasks = events.filter((e) => e.event === 'tasks').map((e) => e.data as Record<string, unknown>);
    expect(tasks.map((t) => [t.name, 'result' in t])).toEqual([['a', false], ['a', true], ['b', false], ['b', true]]);
    // config metadata as the reference sets it (and as checkpoints' config carries it)
    expect((last.config as { metadata: object }).metadata).toMatchObject({ run_attempt: 1, langgraph_version: '1.7.3', langgraph_plan: 'developer', langgraph_host: 'self-hosted' });
  });

  it('messages-tuple, messages (metadata, partial, complete) and custom from a fake chat model', async () => {
    const graph = await bindGraph(load('chat.mjs'), { checkpointer: new MemorySaver() });
    const events = await collect(runOf({ input: { messages: [{ role: 'user', content: 'hi' }] }, stream_mode: ['messages-tuple', 'messages', 'custom'] }), graph);
    expect(events.find((e) => e.event === 'custom')!.data).toEqual({ progress: 'thinking', seen: 1 });
    const tuples = events.filter((e) => e.event === 'messages').map((e) => e.data as [{ content: string; type: string }, { langgraph_node: string }]);
    expect(tuples.map(([m]) => m.content).join('')).toBe('Hi there');
    expect(tuples.every(([m, meta]) => m.type === 'ai' && meta.langgraph_node === 'chat')).toBe(true);
    const partials = events.filter((e) => e.event === 'messages/partial').map((e) => (e.data as Array<{ content: string }>)[0].content);
    expect(partials).toEqual(['H', 'Hi', 'Hi ', 'Hi t', 'Hi th', 'Hi the', 'Hi ther', 'Hi there']);
    const metadata = events.filter((e) => e.event === 'messages/metadata');
    expect(metadata).toHaveLength(1);
    expect(Object.values(metadata[0].data as object)[0]).toMatchObject({ metadata: { langgraph_node: 'chat' } });
    const complete = events.filter((e) => e.event === 'messages/complete').map((e) => e.data as Array<{ content: string; type: string }>);
    expect(complete.map((list) => list.map((m) => `${m.type}:${m.content}`))).toEqual([['human:hi'], ['ai:Hi there']]);
    expect(events.map((e) => e.event)).not.toContain('values');
  });

  it('events: streamEvents v2 events, but the root run stream itself', async () => {
    const graph = await bindGraph(load('two-node.mjs'), { checkpointer: new MemorySaver() });
    const run = runOf({ input: { count: 1 }, stream_mode: ['events'] });
    const events = await collect(run, graph);
    const data = events.slice(1).map((e) => e.data as { event: string; name: string; run_id: string });
    expect(events.slice(1).every((e) => e.event === 'events')).toBe(true);
    expect(data[0]).toMatchObject({ event: 'on_chain_start', name: 'LangGraph', run_id: run.run_id });
    expect(data.at(-1)).toMatchObject({ event: 'on_chain_end', name: 'LangGraph', run_id: run.run_id });
    expect(data.some((d) => d.event === 'on_chain_stream' && d.run_id === run.run_id)).toBe(false);
    expect(data.filter((d) => d.event === 'on_chain_start').map((d) => d.name)).toEqual(['LangGraph', 'a', 'b']);
  });

  it('interrupt, then resume with command; interrupt_before/after', async () => {
    const saver = new MemorySaver();
    const graph = await bindGraph(load('interrupting.mjs'), { checkpointer: saver });
    const first = await collect(runOf({ input: { question: 'name?' }, stream_mode: ['updates'] }, 'i1'), graph);
    expect(first.at(-1)).toEqual({ event: 'updates', data: { __interrupt__: [{ id: expect.any(String), value: { question: 'name?' } }] } });
    const second = await collect(runOf({ command: { resume: 'Ada' }, stream_mode: ['values'] }, 'i1'), graph);
    expect(second.at(-1)!.data).toEqual({ question: 'name?', answer: 'Ada', done: true });

    const two = await bindGraph(load('two-node.mjs'), { checkpointer: saver });
    const before = await collect(runOf({ input: { count: 1 }, stream_mode: ['values'], interrupt_before: ['b'] }, 'i2'), two);
    // (LangGraph's values stream ends an interrupt_before with an empty `__interrupt__`.)
    expect(before.slice(-2).map((e) => e.data)).toEqual([{ count: 2, trace: ['a'] }, { __interrupt__: [] }]);
    const after = await collect(runOf({ input: { count: 1 }, stream_mode: ['updates'], interrupt_after: ['a'] }, 'i3'), two);
    expect(after.map((e) => Object.keys(e.data as object)[0])).toEqual(['run_id', 'a', '__interrupt__']);
    const resumed = await collect(runOf({ input: null, stream_mode: ['values'] }, 'i3'), two);
    expect(resumed.at(-1)!.data).toEqual({ count: 4, trace: ['a', 'b'] });
  });

  it('command update and goto (a name, or {node, input} as a Send)', async () => {
    const graph = await bindGraph(load('two-node.mjs'), { checkpointer: new MemorySaver() });
    const events = await collect(runOf({ command: { update: { count: 10 }, goto: 'b' }, stream_mode: ['values'] }, 'g1'), graph);
    expect(events.at(-1)!.data).toEqual({ count: 20, trace: ['b'] });
    const command = toCommand({ goto: [{ node: 'b', input: { count: 3 } }, 'a'], resume: 1 });
    expect(command.resume).toBe(1);
    expect(command.goto).toEqual([expect.objectContaining({ node: 'b', args: { count: 3 } }), 'a']);
  });

  it('subgraphs: a subgraph’s events named mode|ns', async () => {
    const graph = await bindGraph(load('nested.mjs'), { checkpointer: new MemorySaver() });
    const events = await collect(runOf({ input: { trace: [] }, stream_mode: ['updates', 'values'], subgraphs: true }), graph);
    const names = events.map((e) => e.event.replace(/:[0-9a-f-]{36}$/, ':<task>'));
    expect(names).toEqual(['metadata', 'values', 'values|inner:<task>', 'updates|inner:<task>', 'values|inner:<task>', 'updates', 'values', 'updates', 'values']);
    const without = await collect(runOf({ input: { trace: [] }, stream_mode: ['updates'] }), graph);
    expect(without.map((e) => e.event)).toEqual(['metadata', 'updates', 'updates']);
  });

  it('context, tags, recursion_limit and configurable reach the graph', async () => {
    const seen: unknown[] = [];
    const State = Annotation.Root({ steps: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }) });
    const graph = new StateGraph(State)
      .addNode('loop', (_s, runtime) => {
        const config = runtime as unknown as { context?: unknown; tags?: string[]; configurable?: Record<string, unknown> };
        seen.push({ context: config.context, tags: config.tags, user: config.configurable?.user });
        return { steps: 1 };
      })
      .addEdge(START, 'loop')
      .addConditionalEdges('loop', (s) => (s.steps < 100 ? 'loop' : END))
      .compile();
    const bound = await bindGraph(graph, { checkpointer: new MemorySaver() });
    const run = runOf({ input: {}, context: { who: 'ctx' }, config: { tags: ['tag1'], recursion_limit: 3, configurable: { thread_id: 'c1', user: 'u1' } } });
    await expect(collect(run, bound)).rejects.toThrow(/Recursion limit of 3/);
    expect(seen[0]).toEqual({ context: { who: 'ctx' }, tags: expect.arrayContaining(['tag1']), user: 'u1' });
  });

  it('an abort stops the graph within its current step', async () => {
    const ran: string[] = [];
    const State = Annotation.Root({ x: Annotation<number>() });
    const graph = new StateGraph(State)
      .addNode('slow', async () => {
        ran.push('slow');
        await new Promise((r) => setTimeout(r, 3_000).unref());
        return { x: 1 };
      })
      .addNode('next', () => (ran.push('next'), { x: 2 }))
      .addEdge(START, 'slow')
      .addEdge('slow', 'next')
      .addEdge('next', END)
      .compile();
    const bound = await bindGraph(graph, { checkpointer: new MemorySaver() });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(collect(runOf({ input: { x: 0 }, stream_mode: ['values'] }), bound, { signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(ran).toEqual(['slow']);
  });
});
