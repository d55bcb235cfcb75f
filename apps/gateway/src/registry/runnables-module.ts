import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunnableRegistry } from './runnable-registry';

/** What a RUNNABLES_MODULE receives besides the registry. */
export interface RunnablesModuleContext {
  /** The chat model the gateway configured (provider key, local fallback, retries, timeouts). */
  chatModel: import('@langchain/core/language_models/chat_models').BaseChatModel;
  /**
   * The same model with the fallbacks CHAT_PROVIDERS configures (LangChain's `withFallbacks`): use it
   * where a chain should survive one provider failing; `chatModel` is the first provider alone (it has
   * `bindTools`, `withStructuredOutput`, which a fallback chain does not).
   */
  chat: import('@langchain/core/runnables').Runnable<
    import('@langchain/core/language_models/base').BaseLanguageModelInput,
    import('@langchain/core/messages').AIMessageChunk
  >;
  env: NodeJS.ProcessEnv;
}

/**
 * A user module that registers runnables, like a LangServe app calling `add_routes`:
 *
 *   module.exports.register = (registry, ctx) => registry.addRoutes(myChain, { path: 'summarize' });
 *
 * `register` (or the default export) may be async.
 */
export type RegisterRunnables = (registry: RunnableRegistry, ctx: RunnablesModuleContext) => void | Promise<void>;

/** Thrown at start-up when RUNNABLES_MODULE cannot be loaded or does not export a register function. */
export class RunnablesModuleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunnablesModuleError';
  }
}

export async function loadRunnablesModule(specifier: string, registry: RunnableRegistry, ctx: RunnablesModuleContext): Promise<void> {
  const target = specifier.startsWith('.') || specifier.startsWith('/') ? pathToFileURL(resolve(specifier)).href : specifier;
  let mod: { register?: unknown; default?: unknown };
  try {
    mod = await import(target);
  } catch (err) {
    throw new RunnablesModuleError(`RUNNABLES_MODULE: cannot load ${specifier}: ${(err as Error).message}`, { cause: err });
  }
  const candidates = [mod.register, mod.default, (mod.default as { register?: unknown } | undefined)?.register];
  const register = candidates.find((c) => typeof c === 'function') as RegisterRunnables | undefined;
  if (!register) throw new RunnablesModuleError(`RUNNABLES_MODULE: ${specifier} must export a function "register(registry, ctx)"`);
  await register(registry, ctx);
}
