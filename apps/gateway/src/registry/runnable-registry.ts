import type { Runnable } from '@langchain/core/runnables';
import { normalizeRoutePath, type ResolvedRoute, resolveRoute, RouteSetupError } from './resolved-route';
import type { RouteOptions } from './route-options';
import { type AddGraphOptions, AgentGraphs, type GraphSource } from '../agents/graphs/agent-graphs';

/**
 * The runnables a gateway serves, registered like LangServe's `add_routes(app, runnable, path=…)`.
 * A RUNNABLES_MODULE receives this registry and calls `addRoutes` for each of its runnables.
 */
export class RunnableRegistry {
  readonly #routes = new Map<string, ResolvedRoute>();
  #maxSegments = 1;
  /** LangGraph graphs served through the LangGraph Platform API (needs POSTGRES_URI), by graph id. */
  readonly graphs = new AgentGraphs();

  /**
   * Serves a LangGraph graph (compiled, a StateGraph, or a factory given the run config) through the
   * LangGraph Platform API under `graphId`, with a default assistant of that name:
   *
   *   registry.addGraph(graph, { graphId: 'agent' });
   */
  addGraph(graph: GraphSource, options: AddGraphOptions): this {
    this.graphs.add(graph, { ...options, origin: 'RUNNABLES_MODULE' });
    return this;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addRoutes(runnable: Runnable<any, any, any>, options: RouteOptions): this {
    const route = resolveRoute(runnable, options);
    if (this.#routes.has(route.path)) throw new RouteSetupError(`Route "${route.path}" is already registered`);
    this.#routes.set(route.path, route);
    this.#maxSegments = Math.max(this.#maxSegments, route.path.split('/').length);
    return this;
  }

  /** Removes a route, e.g. a built-in a user module wants to replace. */
  remove(path: string): boolean {
    return this.#routes.delete(normalizeRoutePath(path));
  }

  /** The route registered at exactly this path (`agents/support`, no leading slash). */
  get(path: string): ResolvedRoute | undefined {
    return this.#routes.get(path);
  }

  /** Segments in the longest registered path: how many prefixes a request path is looked up by. */
  get maxSegments(): number {
    return this.#maxSegments;
  }

  get paths(): string[] {
    return [...this.#routes.keys()];
  }

  get size(): number {
    return this.#routes.size;
  }
}
