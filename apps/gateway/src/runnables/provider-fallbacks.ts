import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { AIMessageChunk } from '@langchain/core/messages';
import { HumanMessage } from '@langchain/core/messages';
import { Runnable, type RunnableConfig, RunnableLambda } from '@langchain/core/runnables';
import { isRetryable, statusOf } from './retry-policy';

/**
 * Statuses that say a provider refuses this gateway, not this request: its key is wrong or revoked (401),
 * lacks permission (403), or its model does not exist (404). That is the configuration of one provider,
 * which the next provider, with its own key and model, does fix.
 */
const PROVIDER_SIDE_STATUS = new Set([401, 403, 404]);

/**
 * Whether the next provider should be asked after `err` (the provider's retries, if any, already spent):
 * yes for retryable failures (rate limits, 5xx, LLM_TIMEOUT, network) and for provider-side refusals
 * (401/403/404). No for other 4xx (400, 413, 422, …): they are about the request itself (too long for the
 * context window, refused content, malformed), which the next provider would most likely refuse too — and
 * if it did not, the gateway would quietly route around a refusal such as a content policy.
 */
export function shouldFallBack(err: unknown): boolean {
  if (isRetryable(err)) return true;
  const status = statusOf(err);
  return status !== undefined && PROVIDER_SIDE_STATUS.has(status);
}

interface Failure {
  from: string;
  error: unknown;
  fallBack: boolean;
}

/**
 * Per-run memory shared by the steps of one fallback list, keyed by the run's input object: LangChain's
 * RunnableWithFallbacks hands every step the same one, and withProviderFallbacks makes it a new array
 * per run (freshInput), so a string input or one list shared by concurrent runs still has its own key.
 */
type FailureMemory = WeakMap<object, Failure>;

export interface ProviderStepOptions {
  model: BaseChatModel;
  provider: string;
  /** Position in the fallback list; step 0 starts each run afresh. */
  index: number;
  memory: FailureMemory;
  onFallback?: (from: string, to: string, error: unknown) => void;
}

/**
 * One provider in the `chat` fallback list: the provider's ResilientChatModel (which owns its timeouts and
 * retries) plus a gate. RunnableWithFallbacks tries the next step after any error; the gate makes a step
 * after a failure that must not fall back rethrow that failure without calling its provider, and reports
 * each real fallback (metric, log).
 */
export class ProviderStep extends Runnable<BaseLanguageModelInput, AIMessageChunk> {
  lc_namespace = ['runnel', 'gateway'];
  readonly #o: ProviderStepOptions;

  constructor(options: ProviderStepOptions) {
    super();
    this.#o = options;
  }

  static override lc_name(): string {
    return 'ProviderStep';
  }

  override async invoke(input: BaseLanguageModelInput, options?: Partial<RunnableConfig>): Promise<AIMessageChunk> {
    const key = this.#enter(input);
    try {
      return await this.#o.model.invoke(input, options);
    } catch (err) {
      this.#remember(key, err, options);
      throw err;
    }
  }

  override async *_streamIterator(input: BaseLanguageModelInput, options?: Partial<RunnableConfig>): AsyncGenerator<AIMessageChunk> {
    const key = this.#enter(input);
    let stream: AsyncIterable<AIMessageChunk>;
    try {
      // stream() resolves once the first chunk is there: a failure before it is what falls back.
      stream = await this.#o.model.stream(input, options);
    } catch (err) {
      this.#remember(key, err, options);
      throw err;
    }
    yield* stream;
  }

  /** Checks the run's earlier failure, if any: rethrows it when it must not fall back, else counts the fallback. */
  #enter(input: BaseLanguageModelInput): object {
    const key = input as object;
    if (this.#o.index === 0) {
      this.#o.memory.delete(key);
      return key;
    }
    const failure = this.#o.memory.get(key);
    if (failure && !failure.fallBack) throw failure.error;
    if (failure) this.#o.onFallback?.(failure.from, this.#o.provider, failure.error);
    return key;
  }

  #remember(key: object, error: unknown, options?: Partial<RunnableConfig>): void {
    const fallBack = !options?.signal?.aborted && shouldFallBack(error);
    this.#o.memory.set(key, { from: this.#o.provider, error, fallBack });
  }
}

/**
 * The chat models in order, as one runnable: LangChain's `withFallbacks`, each provider wrapped in a
 * ProviderStep. A single model is returned as is.
 */
export function withProviderFallbacks(
  models: { model: BaseChatModel; provider: string }[],
  onFallback?: (from: string, to: string, error: unknown) => void,
): Runnable<BaseLanguageModelInput, AIMessageChunk> {
  if (models.length === 1) return models[0].model as unknown as Runnable<BaseLanguageModelInput, AIMessageChunk>;
  const memory: FailureMemory = new WeakMap();
  const [first, ...rest] = models.map((m, index) => new ProviderStep({ ...m, index, memory, onFallback }));
  return RunnableLambda.from(freshInput).pipe(first.withFallbacks(rest));
}

/**
 * The run's input as a new message list, the key of its failure memory: a string has no identity to
 * key by (a refused request fell back silently), and a list a caller passes to two runs at once would
 * be one key for both. The models read a list as they read the string or prompt value it came from.
 */
function freshInput(input: BaseLanguageModelInput): BaseLanguageModelInput {
  if (typeof input === 'string') return [new HumanMessage(input)];
  if (Array.isArray(input)) return [...input];
  return input.toChatMessages();
}
