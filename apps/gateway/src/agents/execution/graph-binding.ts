import type { RunnableConfig } from '@langchain/core/runnables';
import type { BaseCheckpointSaver, BaseStore, Pregel } from '@langchain/langgraph';

/** A compiled graph (`CompiledStateGraph`, a functional-API `entrypoint`, any `Pregel`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CompiledGraph = Pregel<any, any, any, any, any, any, any, any, any, any, any>;

/** Anything `langgraph.json`'s `graphs` may export: a compiled graph, a `StateGraph` to compile, or a factory of either taking the run's config. */
export type GraphLike = object;
export type GraphFactory = (config: RunnableConfig) => GraphLike | Promise<GraphLike>;
export type GraphSource = GraphLike | GraphFactory | Promise<GraphLike>;

export interface BindGraphOptions {
  /** The thread's checkpointer; `null` for none (a stateless run on a temporary thread). */
  checkpointer: BaseCheckpointSaver | null;
  store?: BaseStore;
  /** The run's config, handed to a factory (`{configurable: {}}` when not given). */
  config?: RunnableConfig;
}

const isUncompiled = (g: unknown): g is { compile(): unknown } =>
  typeof g === 'object' && g != null && typeof (g as { compile?: unknown }).compile === 'function';
const isCompiledStateGraph = (g: unknown) =>
  typeof g === 'object' && g != null && typeof (g as { builder?: unknown }).builder === 'object' && (g as { builder?: unknown }).builder != null;
const isPregel = (g: unknown): g is CompiledGraph =>
  typeof g === 'object' && g != null && typeof (g as { streamEvents?: unknown }).streamEvents === 'function' && typeof (g as { withConfig?: unknown }).withConfig === 'function';

/** A StateGraph is compiled; an object that is not a compiled graph but carries one as `.graph` (LangChain 1.x `createAgent`'s agent) gives that one. */
export function resolveCompiled(graphLike: unknown): CompiledGraph {
  if (graphLike == null) throw new Error('Failed to load graph: graph is nullish');
  const graph = isUncompiled(graphLike) ? graphLike.compile() : graphLike;
  const inner = !isCompiledStateGraph(graph) && typeof graph === 'object' && graph != null && 'graph' in graph ? (graph as { graph: unknown }).graph : graph;
  if (!isPregel(inner)) throw new Error('Failed to load graph: not a LangGraph graph (no streamEvents/withConfig)');
  return inner;
}

/** A registered StateGraph compiled once, not per run and per state read (a factory's graph is the factory's to reuse). */
const compiled = new WeakMap<object, CompiledGraph>();
async function compiledOnce(source: GraphLike | Promise<GraphLike>): Promise<CompiledGraph> {
  const graphLike = await source;
  if (graphLike == null || typeof graphLike !== 'object') return resolveCompiled(graphLike);
  let graph = compiled.get(graphLike);
  if (!graph) compiled.set(graphLike, (graph = resolveCompiled(graphLike)));
  return graph;
}

/**
 * The graph a run executes: `source` resolved (a factory called with the run config, a StateGraph
 * compiled) then copied with the checkpointer and store set. The copy (`withConfig({})`, which
 * builds a new graph from the same nodes and channels) leaves a graph that is shared between runs
 * and threads untouched: the reference sets `checkpointer`/`store` on its one registered object.
 */
export async function bindGraph(source: GraphSource, options: BindGraphOptions): Promise<CompiledGraph> {
  const graph = (typeof source === 'function' ? resolveCompiled(await (source as GraphFactory)(options.config ?? { configurable: {} })) : await compiledOnce(source)).withConfig(
    {},
  ) as CompiledGraph;
  graph.checkpointer = options.checkpointer ?? undefined;
  graph.store = options.store;
  return graph;
}
