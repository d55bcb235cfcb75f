/**
 * What a graph may be registered as, as `@langchain/langgraph-cli` accepts it: a compiled graph, a
 * StateGraph (compiled on load), or a function (sync or async) that is given the run's config and
 * returns either. Typed loosely on purpose: user graphs come from their own copy of the types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GraphSource = object | ((config: any) => unknown);

export interface AddGraphOptions {
  graphId: string;
  /** Shown as the default assistant's description. */
  description?: string;
}

export interface RegisteredGraph {
  graphId: string;
  source: GraphSource;
  description?: string;
  /** Where it came from, for logs and errors: `langgraph.json`, `RUNNABLES_MODULE`, `built-in`. */
  origin: string;
}

/** Thrown at start-up when a graph is registered twice, with a bad id, or is not a graph. */
export class GraphSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GraphSetupError';
  }
}

const GRAPH_ID = /^[A-Za-z0-9][\w.-]{0,127}$/;

/** Something that looks like a LangGraph graph: compiled (invoke/stream), uncompiled (compile), or a factory. */
function isGraphLike(source: unknown): boolean {
  if (typeof source === 'function') return true;
  if (typeof source !== 'object' || source === null) return false;
  const s = source as Record<string, unknown>;
  return typeof s.compile === 'function' || typeof s.streamEvents === 'function' || typeof s.invoke === 'function';
}

/** The LangGraph graphs the gateway serves through the LangGraph Platform API, by graph id. */
export class AgentGraphs {
  readonly #graphs = new Map<string, RegisteredGraph>();

  add(source: GraphSource, options: AddGraphOptions & { origin?: string }): this {
    const { graphId } = options;
    const origin = options.origin ?? 'RUNNABLES_MODULE';
    if (typeof graphId !== 'string' || !GRAPH_ID.test(graphId))
      throw new GraphSetupError(`${origin}: graph id ${JSON.stringify(graphId)} must be 1-128 letters, digits, '_', '-' or '.', starting with a letter or digit`);
    if (this.#graphs.has(graphId)) throw new GraphSetupError(`${origin}: graph "${graphId}" is already registered (by ${this.#graphs.get(graphId)!.origin})`);
    if (!isGraphLike(source)) throw new GraphSetupError(`${origin}: graph "${graphId}" is not a LangGraph graph, StateGraph or graph factory`);
    this.#graphs.set(graphId, { graphId, source, description: options.description, origin });
    return this;
  }

  get(graphId: string): RegisteredGraph | undefined {
    return this.#graphs.get(graphId);
  }

  get ids(): string[] {
    return [...this.#graphs.keys()];
  }

  get size(): number {
    return this.#graphs.size;
  }
}
