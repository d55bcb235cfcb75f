import type { Runnable } from '@langchain/core/runnables';
import { type ResolvedRoute, resolveRoute, RouteSetupError } from './resolved-route';
import type { RouteOptions } from './route-options';

/**
 * The runnables a gateway serves, registered like LangServe's `add_routes(app, runnable, path=…)`.
 * A RUNNABLES_MODULE receives this registry and calls `addRoutes` for each of its runnables.
 */
export class RunnableRegistry {
  readonly #routes = new Map<string, ResolvedRoute>();

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addRoutes(runnable: Runnable<any, any, any>, options: RouteOptions): this {
    if (this.#routes.has(options.path)) throw new RouteSetupError(`Route "${options.path}" is already registered`);
    this.#routes.set(options.path, resolveRoute(runnable, options));
    return this;
  }

  /** Removes a route, e.g. a built-in a user module wants to replace. */
  remove(path: string): boolean {
    return this.#routes.delete(path);
  }

  get(path: string): ResolvedRoute | undefined {
    return this.#routes.get(path);
  }

  get paths(): string[] {
    return [...this.#routes.keys()];
  }

  get size(): number {
    return this.#routes.size;
  }
}
