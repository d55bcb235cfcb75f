import { collect, dataOf, type StreamPart, TARGETS, tag, useTargets } from './conformance-targets';

/**
 * Conformance, part 3 (stream modes, interrupts) on the gateway and on the reference, through the
 * SDK Client. `two` (two-node.mjs): a adds 1, b doubles; `chat` (chat.mjs): a fake chat model says
 * 'Hi there' token by token after a custom event; `ask` (interrupting.mjs): interrupt() then finish.
 */

const target = useTargets(['two', 'chat', 'ask']);

const hello = { messages: [{ type: 'human', content: 'hello' }] };
const events = (parts: StreamPart[]) => parts.map((p) => p.event);

describe.each(TARGETS)('conformance on the %s: stream modes and interrupts', (name) => {
  const client = () => target(name).client;
  const stream = async (graph: string, input: Record<string, unknown>, streamMode: string | string[]) => {
    const thread = await client().threads.create();
    return collect(client().runs.stream(thread.thread_id, graph, { input, streamMode: streamMode as never }));
  };

  describe('stream modes', () => {
    it('values (the default): the whole state after each step', async () => {
      const thread = await client().threads.create();
      const parts = await collect(client().runs.stream(thread.thread_id, 'two', { input: { count: 1 } }));
      expect(events(parts)).toEqual(['metadata', 'values', 'values', 'values']);
      expect(dataOf(parts, 'values')).toEqual([
        { count: 1, trace: [] },
        { count: 2, trace: ['a'] },
        { count: 4, trace: ['a', 'b'] },
      ]);
      expect(parts[0].data.run_id).toEqual((await client().runs.list(thread.thread_id))[0].run_id);
    });

    it('updates: each node and what it wrote', async () => {
      const parts = await stream('two', { count: 1 }, 'updates');
      expect(events(parts)).toEqual(['metadata', 'updates', 'updates']);
      expect(dataOf(parts, 'updates')).toEqual([{ a: { count: 2, trace: ['a'] } }, { b: { count: 4, trace: ['b'] } }]);
    });

    it('messages-tuple: event `messages`, data [message chunk, metadata] with langgraph_node', async () => {
      const parts = await stream('chat', hello, 'messages-tuple');
      const tuples = dataOf(parts, 'messages');
      expect(tuples.length).toBeGreaterThanOrEqual(2);
      for (const [message, metadata] of tuples) {
        expect(message).toMatchObject({ type: expect.stringMatching(/^AIMessageChunk$|^ai$/), content: expect.any(String) });
        expect(metadata).toMatchObject({ langgraph_node: 'chat', langgraph_step: 1 });
      }
      expect(tuples.map(([m]) => m.content).join('')).toBe('Hi there');
      expect(events(parts).filter((e) => e !== 'messages')).toEqual(['metadata']);
    });

    it('messages: messages/metadata, then partials that grow, then messages/complete', async () => {
      const parts = await stream('chat', hello, 'messages');
      const kinds = events(parts);
      expect(kinds[0]).toBe('metadata');
      expect(kinds).toContain('messages/metadata');
      expect(kinds.indexOf('messages/metadata')).toBeLessThan(kinds.indexOf('messages/partial'));
      const partials = dataOf(parts, 'messages/partial').map(([m]) => m.content);
      expect(partials.at(-1)).toBe('Hi there');
      for (let i = 1; i < partials.length; i++) expect(partials[i].startsWith(partials[i - 1])).toBe(true);
      const complete = dataOf(parts, 'messages/complete').flat();
      expect(complete.map((m) => [m.type, m.content])).toEqual([
        ['human', 'hello'],
        ['ai', 'Hi there'],
      ]);
      const [meta] = Object.values(dataOf(parts, 'messages/metadata')[0]) as { metadata: Record<string, unknown> }[];
      expect(meta.metadata).toMatchObject({ langgraph_node: 'chat' });
    });

    it('events: LangChain callback events (chain and chat model) as `events`', async () => {
      const parts = await stream('chat', hello, 'events');
      const kinds = dataOf(parts, 'events').map((e) => e.event);
      expect(kinds[0]).toBe('on_chain_start');
      expect(kinds).toEqual(expect.arrayContaining(['on_chain_start', 'on_chain_end', 'on_chat_model_start', 'on_chat_model_stream', 'on_chat_model_end']));
      const tokens = dataOf(parts, 'events').filter((e) => e.event === 'on_chat_model_stream');
      expect(tokens.map((e) => e.data.chunk.kwargs?.content ?? e.data.chunk.content).join('')).toBe('Hi there');
      expect(tokens[0].metadata).toMatchObject({ langgraph_node: 'chat' });
      expect(events(parts).filter((e) => e !== 'events')).toEqual(['metadata']);
    });

    it('debug: checkpoints, tasks and task results, step by step', async () => {
      const parts = await stream('two', { count: 1 }, 'debug');
      const debug = dataOf(parts, 'debug');
      expect(debug.map((d) => [d.type, d.step])).toEqual([
        ['checkpoint', -1],
        ['checkpoint', 0],
        ['task', 1],
        ['task_result', 1],
        ['checkpoint', 1],
        ['task', 2],
        ['task_result', 2],
        ['checkpoint', 2],
      ]);
      const last = debug.at(-1);
      expect(last.payload).toMatchObject({ values: { count: 4, trace: ['a', 'b'] }, next: [], metadata: { source: 'loop', step: 2 } });
      expect(last.payload.config.configurable).toMatchObject({ checkpoint_id: expect.any(String) });
      expect(debug.find((d) => d.type === 'task').payload).toMatchObject({ name: 'a', input: { count: 1, trace: [] }, triggers: expect.any(Array) });
      expect(debug.find((d) => d.type === 'task_result').payload).toMatchObject({ name: 'a', result: { count: 2, trace: ['a'] } });
    });

    it('custom: what the node writes through config.writer', async () => {
      const parts = await stream('chat', hello, 'custom');
      expect(events(parts)).toEqual(['metadata', 'custom']);
      expect(dataOf(parts, 'custom')).toEqual([{ progress: 'thinking', seen: 1 }]);
    });

    it('several modes at once interleave, in step order', async () => {
      const parts = await stream('chat', hello, ['values', 'updates', 'custom', 'messages-tuple']);
      const kinds = events(parts).filter((e, i, all) => e !== all[i - 1]);
      expect(kinds).toEqual(['metadata', 'values', 'custom', 'messages', 'updates', 'values']);
      expect(dataOf(parts, 'updates')).toEqual([{ chat: { messages: [expect.objectContaining({ type: 'ai', content: 'Hi there' })] } }]);
      expect(dataOf(parts, 'values').at(-1).messages.map((m: { content: string }) => m.content)).toEqual(['hello', 'Hi there']);
    });

    it('a stateless stream: the same events without a thread', async () => {
      const parts = await collect(client().runs.stream(null, 'two', { input: { count: 1 }, streamMode: ['updates'] }));
      expect(dataOf(parts, 'updates')).toEqual([{ a: { count: 2, trace: ['a'] } }, { b: { count: 4, trace: ['b'] } }]);
    });
  });

  describe('interrupts', () => {
    it('interrupt(): the thread is interrupted, its value in getState().tasks and threads.get().interrupts; resume with a command', async () => {
      const c = client();
      const t = tag();
      const thread = await c.threads.create({ metadata: { t } });
      const first = (await c.runs.wait(thread.thread_id, 'ask', { input: { question: 'name?' } })) as Record<string, unknown>;
      // What wait answers for an interrupted run: its interrupts only (the last `values`-like chunk).
      expect(first).toEqual({ __interrupt__: [{ id: expect.any(String), value: { question: 'name?' } }] });
      const got = await c.threads.get(thread.thread_id);
      expect(got.status).toBe('interrupted');
      const interrupts = Object.values(got.interrupts ?? {});
      expect(interrupts).toEqual([[expect.objectContaining({ value: { question: 'name?' } })]]);
      const state = await c.threads.getState(thread.thread_id);
      expect(state.next).toEqual(['ask']);
      expect(state.tasks).toHaveLength(1);
      expect(state.tasks[0]).toMatchObject({ name: 'ask', interrupts: [{ value: { question: 'name?' } }] });
      expect(Object.keys(got.interrupts ?? {})).toEqual([state.tasks[0].id]);
      expect((await c.threads.search({ metadata: { t }, status: 'interrupted' })).map((x) => x.thread_id)).toEqual([thread.thread_id]);

      const done = await c.runs.wait(thread.thread_id, 'ask', { command: { resume: 'Ada' } });
      expect(done).toEqual({ question: 'name?', answer: 'Ada', done: true });
      const after = await c.threads.get(thread.thread_id);
      expect(after.status).toBe('idle');
      expect(after.interrupts).toEqual({});
      expect((await c.threads.getState(thread.thread_id)).next).toEqual([]);
    });

    it('a stream shows the interrupt as updates {__interrupt__}', async () => {
      const parts = await stream('ask', { question: 'why?' }, ['updates']);
      expect(dataOf(parts, 'updates')).toEqual([{ __interrupt__: [{ id: expect.any(String), value: { question: 'why?' } }] }]);
    });

    it('interruptBefore: the run stops before the node; a null input goes on', async () => {
      const c = client();
      const thread = await c.threads.create();
      expect(await c.runs.wait(thread.thread_id, 'two', { input: { count: 1 }, interruptBefore: ['b'] })).toEqual({ __interrupt__: [] });
      expect((await c.threads.getState(thread.thread_id)).values).toEqual({ count: 2, trace: ['a'] });
      expect((await c.threads.get(thread.thread_id)).status).toBe('interrupted');
      expect((await c.threads.getState(thread.thread_id)).next).toEqual(['b']);
      expect(await c.runs.wait(thread.thread_id, 'two', { input: null })).toEqual({ count: 4, trace: ['a', 'b'] });
      expect((await c.threads.get(thread.thread_id)).status).toBe('idle');
    });
  });
});
