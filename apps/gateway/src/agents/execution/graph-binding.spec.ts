import { InMemoryStore, MemorySaver } from '@langchain/langgraph';
import type { RunnableConfig } from '@langchain/core/runnables';
import { loadFixture } from './fixtures/load-fixture';
import { bindGraph, type CompiledGraph } from './graph-binding';

const { graph: compiled, builder } = loadFixture<{ graph: CompiledGraph; builder: { compile(): CompiledGraph } }>('two-node.mjs');
const thread = (id: string) => ({ configurable: { thread_id: id } });

describe('bindGraph', () => {
  it('a compiled graph: a copy with the checkpointer and store, the shared one untouched', async () => {
    const checkpointer = new MemorySaver();
    const store = new InMemoryStore();
    const bound = await bindGraph(compiled, { checkpointer, store });
    expect(bound).not.toBe(compiled);
    expect(bound.checkpointer).toBe(checkpointer);
    expect(bound.store).toBe(store);
    expect(compiled.checkpointer).toBeUndefined();
    expect(compiled.store).toBeUndefined();
    expect(await bound.invoke({ count: 1 }, thread('t'))).toEqual({ count: 4, trace: ['a', 'b'] });
    expect((await bound.getState(thread('t'))).values).toEqual({ count: 4, trace: ['a', 'b'] });
  });

  it('two bindings of one graph keep to their own checkpointers', async () => {
    const [s1, s2] = [new MemorySaver(), new MemorySaver()];
    const [g1, g2] = await Promise.all([bindGraph(compiled, { checkpointer: s1 }), bindGraph(compiled, { checkpointer: s2 })]);
    await g1.invoke({ count: 1 }, thread('same'));
    expect((await g1.getState(thread('same'))).values).toEqual({ count: 4, trace: ['a', 'b'] });
    expect((await g2.getState(thread('same'))).values).toEqual({});
  });

  it('an uncompiled StateGraph is compiled', async () => {
    const bound = await bindGraph(builder, { checkpointer: new MemorySaver() });
    expect(await bound.invoke({ count: 2 }, thread('t'))).toEqual({ count: 6, trace: ['a', 'b'] });
  });

  it('a factory (sync or async) gets the run config; its StateGraph is compiled', async () => {
    const seen: RunnableConfig[] = [];
    const config = { configurable: { thread_id: 't', user_id: 'u' } };
    const sync = await bindGraph((c: RunnableConfig) => (seen.push(c), builder), { checkpointer: new MemorySaver(), config });
    const async_ = await bindGraph(async (c: RunnableConfig) => (seen.push(c), compiled), { checkpointer: new MemorySaver() });
    expect(seen).toEqual([config, { configurable: {} }]);
    expect(await sync.invoke({ count: 0 }, thread('t'))).toEqual({ count: 2, trace: ['a', 'b'] });
    expect(async_).not.toBe(compiled);
    expect(await async_.invoke({ count: 0 }, thread('t'))).toEqual({ count: 2, trace: ['a', 'b'] });
  });

  it('checkpointer null: none (a stateless run); an object holding a compiled graph as .graph gives it', async () => {
    const bound = await bindGraph({ graph: compiled }, { checkpointer: null });
    expect(bound.checkpointer).toBeUndefined();
    expect(await bound.invoke({ count: 1 })).toEqual({ count: 4, trace: ['a', 'b'] });
    await expect(bindGraph({}, { checkpointer: null })).rejects.toThrow(/not a LangGraph graph/);
    await expect(bindGraph(() => null as never, { checkpointer: null })).rejects.toThrow(/nullish/);
  });
});
