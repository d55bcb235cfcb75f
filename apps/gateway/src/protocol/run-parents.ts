import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import type { Callbacks } from '@langchain/core/callbacks/manager';

/**
 * Records each run's parent as runs start, so stream_events can send `parent_ids` (the run ids of
 * an event's ancestors, root first) as LangServe does: LangChain.js's v2 events do not carry them.
 * Awaited by the callback manager, so a run's parent is known before its first event is read.
 */
export class RunParents extends BaseCallbackHandler {
  name = 'runnel_run_parents';
  override awaitHandlers = true;
  readonly #parents = new Map<string, string | undefined>();

  /** Ancestors of `runId`, root first; `[]` for the root and for runs it has not seen. */
  ancestorsOf(runId: string): string[] {
    const out: string[] = [];
    let parent = this.#parents.get(runId);
    while (parent !== undefined && out.length < 1000) {
      out.push(parent);
      parent = this.#parents.get(parent);
    }
    return out.reverse();
  }

  /** `callbacks` with this handler added, as LangChain adds its own stream handlers. */
  addTo(callbacks: Callbacks | undefined): Callbacks {
    if (callbacks === undefined) return [this];
    if (Array.isArray(callbacks)) return [...callbacks, this];
    const copy = callbacks.copy();
    copy.addHandler(this, true);
    return copy;
  }

  #record(runId: string, parentRunId: string | undefined): void {
    this.#parents.set(runId, parentRunId);
  }

  // LangChain.js calls every start handler with (serialized, inputs, runId, parentRunId, …).
  override handleChainStart(_chain: unknown, _inputs: unknown, runId: string, parentRunId?: string): void {
    this.#record(runId, parentRunId);
  }

  override handleLLMStart(_llm: unknown, _prompts: unknown, runId: string, parentRunId?: string): void {
    this.#record(runId, parentRunId);
  }

  override handleChatModelStart(_llm: unknown, _messages: unknown, runId: string, parentRunId?: string): void {
    this.#record(runId, parentRunId);
  }

  override handleToolStart(_tool: unknown, _input: unknown, runId: string, parentRunId?: string): void {
    this.#record(runId, parentRunId);
  }

  override handleRetrieverStart(_retriever: unknown, _query: unknown, runId: string, parentRunId?: string): void {
    this.#record(runId, parentRunId);
  }
}
