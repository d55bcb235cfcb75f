import type { RunnableConfig } from '@langchain/core/runnables';
import type { BaseCheckpointSaver, BaseStore } from '@langchain/langgraph';
import { bindGraph, type CompiledGraph, type GraphSource } from '../execution/graph-binding';
import { graphAssistantId } from '../storage/assistant-repository';
import { NotFoundError } from '../storage/storage-errors';
import type { AgentGraphs } from './agent-graphs';

/**
 * Gives the graph of a graph id, ready for a thread: bound to the checkpointer and the store, a
 * factory called with the run's config. One place decides how a registered graph becomes the graph
 * a run, a state read or a state update works on.
 */
export class GraphLoader {
  constructor(
    private readonly graphs: AgentGraphs,
    private readonly checkpointer: BaseCheckpointSaver,
    private readonly store: BaseStore,
  ) {}

  has(graphId: string): boolean {
    return this.graphs.get(graphId) !== undefined;
  }

  /** An assistant id as the API takes it: a registered graph's id names that graph's default assistant. */
  assistantId(idOrGraphId: string): string {
    return this.has(idOrGraphId) ? graphAssistantId(idOrGraphId) : idOrGraphId;
  }

  /**
   * @param options.stateless no checkpointer (a stateless run on a temporary thread keeps no history)
   * @throws NotFoundError for a graph id nobody registered (an assistant of a graph since removed)
   */
  async load(graphId: string, config?: RunnableConfig, options: { stateless?: boolean } = {}): Promise<CompiledGraph> {
    const registered = this.graphs.get(graphId);
    if (!registered) throw new NotFoundError(`Graph "${graphId}" not found`);
    return bindGraph(registered.source as GraphSource, { checkpointer: options.stateless ? null : this.checkpointer, store: this.store, config });
  }
}
