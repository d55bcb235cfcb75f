import { RunnableLambda } from '@langchain/core/runnables';
import { AIMessage as AIMessageV03, HumanMessage as HumanMessageV03, SystemMessage as SystemMessageV03 } from 'langchain-core-v03/messages';
import { RemoteRunnable } from 'langchain-core-v03/runnables/remote';
import { z } from 'zod';
import { LocalChatModel } from '../src/runnables/local-chat-model';
import { startTestGateway, type TestGateway } from './gateway-harness';

/**
 * Compatibility with LangChain.js's own client: `RemoteRunnable` from @langchain/core 0.3.x (the
 * last line that has it), installed as `langchain-core-v03`, against a live gateway.
 */
describe('RemoteRunnable (@langchain/core 0.3.80) against the gateway', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({}, {
      register: (r) => {
        r.addRoutes(
          RunnableLambda.from(async (x: { a: number; b: number }) => x.a + x.b),
          { path: 'add', inputSchema: z.object({ a: z.number(), b: z.number() }) },
        );
        r.addRoutes(
          RunnableLambda.from(async (x: unknown) => {
            throw new Error(`secret internal detail ${JSON.stringify(x)}`);
          }),
          { path: 'boom' },
        );
        r.addRoutes(new LocalChatModel(), { path: 'model' });
        r.addRoutes(
          RunnableLambda.from(async (_x: unknown, config) => config?.configurable ?? null),
          { path: 'whoami', configKeys: ['configurable'] },
        );
      },
    });
  });
  afterAll(() => gw.close());

  const remote = (path: string) => new RemoteRunnable({ url: `${gw.url}/${path}` });

  it('invokes', async () => {
    await expect(remote('echo').invoke('hello there')).resolves.toBe('hello there');
    await expect(remote('echo').invoke({ nested: [1, { x: true }] })).resolves.toEqual({ nested: [1, { x: true }] });
    await expect(remote('add').invoke({ a: 2, b: 3 })).resolves.toBe(5);
  });

  it('batches (the client sends config and kwargs as arrays)', async () => {
    await expect(remote('add').batch([{ a: 1, b: 1 }, { a: 2, b: 2 }, { a: 3, b: 4 }])).resolves.toEqual([2, 4, 7]);
    await expect(remote('chat').batch([{ input: 'one' }, { input: 'two' }])).resolves.toEqual([
      '[runnel local model] You said: one',
      '[runnel local model] You said: two',
    ]);
  });

  it('streams chunks that concatenate to the invoke output', async () => {
    const chunks: string[] = [];
    for await (const chunk of await remote('echo').stream('the quick brown fox')) chunks.push(chunk as string);
    expect(chunks).toEqual(['the', ' quick', ' brown', ' fox']);
    const chat: string[] = [];
    for await (const chunk of await remote('chat').stream({ input: 'stream me' })) chat.push(chunk as string);
    expect(chat.length).toBeGreaterThan(3);
    expect(chat.join('')).toBe('[runnel local model] You said: stream me');
  });

  it('streamLog: patches rebuild the final output', async () => {
    const { RunLog, RunLogPatch } = await import('langchain-core-v03/tracers/log_stream');
    const patches: InstanceType<typeof RunLogPatch>[] = [];
    // The client applies each patch to its own running log after yielding it, mutating the op
    // values; copy them as they arrive to replay them independently.
    for await (const patch of remote('chat').streamLog({ input: 'log me' })) patches.push(new RunLogPatch({ ops: structuredClone(patch.ops) }));
    expect(patches[0].ops[0]).toMatchObject({ op: 'replace', path: '' });
    let log = RunLog.fromRunLogPatch(patches[0]);
    for (const p of patches.slice(1)) log = log.concat(p);
    // As LangServe: final_output is the output accumulated from the chunks (not LangChain.js's {output}).
    expect(log.state.final_output).toBe('[runnel local model] You said: log me');
    expect(log.state.streamed_output.join('')).toBe('[runnel local model] You said: log me');
    expect(Object.keys(log.state.logs)).toEqual(expect.arrayContaining(['ChatPromptTemplate', 'ResilientChatModel', 'StrOutputParser']));
  });

  it('streamLog honours include filters', async () => {
    const paths = new Set<string>();
    for await (const patch of remote('chat').streamLog({ input: 'x' }, undefined, { includeTypes: ['llm'] })) {
      for (const op of patch.ops) if (op.path.startsWith('/logs/')) paths.add(op.path.split('/')[2]);
    }
    expect([...paths]).toEqual(['ResilientChatModel']);
  });

  it('streamEvents (v2): start, model tokens, end', async () => {
    const events = [];
    for await (const e of remote('chat').streamEvents({ input: 'events' }, { version: 'v2' })) events.push(e);
    const kinds = events.map((e) => e.event);
    expect(kinds[0]).toBe('on_chain_start');
    expect(kinds).toContain('on_chat_model_stream');
    expect(kinds.at(-1)).toBe('on_chain_end');
    expect(events.at(-1)!.data.output).toBe('[runnel local model] You said: events');
    for (const e of events) expect(Object.keys(e.metadata ?? {}).filter((k) => k.startsWith('__'))).toEqual([]);
    const tokens = events.filter((e) => e.event === 'on_chat_model_stream').map((e) => e.data.chunk.content);
    expect(tokens.join('')).toBe('[runnel local model] You said: events');
  });

  it('streamEvents honours exclude filters', async () => {
    const names = new Set<string>();
    for await (const e of remote('chat').streamEvents({ input: 'x' }, { version: 'v2' }, { excludeTypes: ['prompt', 'parser'] })) names.add(e.name);
    expect(names.has('ChatPromptTemplate')).toBe(false);
    expect(names.has('StrOutputParser')).toBe(false);
    expect(names.has('ResilientChatModel')).toBe(true);
  });

  it('round-trips messages: client message objects in, a revived AIMessage out', async () => {
    const out = await remote('model').invoke([new SystemMessageV03('be brief'), new HumanMessageV03('ping')]);
    expect(out).toBeInstanceOf(AIMessageV03);
    expect((out as AIMessageV03).content).toBe('[runnel local model] You said: ping');
    const history = [new HumanMessageV03('first'), new AIMessageV03('an answer')];
    await expect(remote('chat').invoke({ input: 'second', history })).resolves.toBe('[runnel local model] You said: second');
  });

  it('propagates errors without leaking internals', async () => {
    await expect(remote('boom').invoke('x')).rejects.toThrow(/^500 Error: .*Internal Server Error/);
    await expect(remote('boom').invoke('x')).rejects.not.toThrow(/secret internal detail/);
    await expect(remote('add').invoke({ a: 'no' } as never)).rejects.toThrow(/^422 Error: .*input\.a/);
    const consume = async () => {
      for await (const _ of await remote('boom').stream('x')) void _;
    };
    await expect(consume()).rejects.toThrow(/Internal Server Error/);
    expect(gw.logs.some((l) => String((l.err as { message?: string })?.message).includes('secret internal detail'))).toBe(true);
  });

  it('passes only configurable through; other client config is dropped, not an error', async () => {
    const out = await remote('whoami').invoke('x', { configurable: { user: 'u1' }, tags: ['t'], runName: 'spoofed', recursionLimit: 5 });
    expect(out).toEqual({ user: 'u1' });
  });
});
