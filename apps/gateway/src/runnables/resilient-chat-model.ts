import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import { BaseChatModel, type BindToolsInput } from '@langchain/core/language_models/chat_models';
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { AIMessageChunk, BaseMessage } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';
import { bindToolsAsCallOptions } from './bind-tools';
import type { ChatGenerationChunk, ChatResult } from '@langchain/core/outputs';
import type { Histogram } from '@runnel/metrics';
import { backoffDelay, delay } from '@runnel/service';
import { isRetryable, ModelTimeoutError, retryAfterMs } from './retry-policy';

export interface ResilientChatModelOptions {
  inner: BaseChatModel;
  provider: string;
  model: string;
  /** Per attempt. */
  timeoutMs: number;
  maxRetries: number;
  backoffMs: number;
  duration?: Histogram<'provider' | 'model' | 'outcome'>;
}

// The inner model's own generate/stream entry points; protected in the typings, public in practice.
type InnerModel = {
  _generate(m: BaseMessage[], o: unknown, r?: CallbackManagerForLLMRun): Promise<ChatResult>;
  _streamResponseChunks(m: BaseMessage[], o: unknown, r?: CallbackManagerForLLMRun): AsyncGenerator<ChatGenerationChunk>;
};

/**
 * Wraps a provider's chat model with the gateway's policy: a timeout per attempt (LLM_TIMEOUT;
 * for a stream, the longest silence between chunks),
 * retries with exponential backoff and jitter on retryable errors only (MAX_RETRIES,
 * RETRY_BACKOFF_MS), the caller's AbortSignal honoured at every step (a client that disconnects
 * cancels the HTTP call to the provider), and a duration metric per attempt. A stream is retried
 * only until its first chunk: after that, a retry would repeat text the client already has.
 */
export class ResilientChatModel extends BaseChatModel {
  // Not a #private field: BaseChatModel's constructor calls _llmType() before subclass fields exist.
  private readonly policy: ResilientChatModelOptions;

  constructor(options: ResilientChatModelOptions) {
    super({});
    this.policy = options;
  }

  static override lc_name(): string {
    return 'ResilientChatModel';
  }

  _llmType(): string {
    return this.policy?.provider ?? 'runnel';
  }

  /** Tools reach the inner model's own _generate in the call options, under the same timeouts and retries. */
  override bindTools(tools: BindToolsInput[]): Runnable<BaseLanguageModelInput, AIMessageChunk> {
    return bindToolsAsCallOptions(this, tools);
  }

  get innerModel(): BaseChatModel {
    return this.policy.inner;
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions'], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    const inner = this.policy.inner as unknown as InnerModel;
    for (let attempt = 0; ; attempt++) {
      const { signal, done } = this.#attemptSignal(options.signal);
      const started = performance.now();
      try {
        const result = await inner._generate(messages, { ...options, signal }, runManager);
        this.#observe(started, 'ok');
        return result;
      } catch (err) {
        const error = signal.aborted && !options.signal?.aborted ? signal.reason : err;
        this.#observe(started, options.signal?.aborted ? 'cancelled' : 'error');
        await this.#beforeRetry(error, attempt, options.signal);
      } finally {
        done();
      }
    }
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const inner = this.policy.inner as unknown as InnerModel;
    for (let attempt = 0; ; attempt++) {
      const { signal, done, restart } = this.#attemptSignal(options.signal);
      const started = performance.now();
      let yielded = false;
      try {
        for await (const chunk of inner._streamResponseChunks(messages, { ...options, signal }, runManager)) {
          yielded = true;
          // While a stream is flowing, LLM_TIMEOUT bounds the silence between chunks, not the
          // whole answer: a long, healthy generation must not be cut off.
          restart();
          yield chunk;
        }
        this.#observe(started, 'ok');
        return;
      } catch (err) {
        const error = signal.aborted && !options.signal?.aborted ? signal.reason : err;
        this.#observe(started, options.signal?.aborted ? 'cancelled' : 'error');
        if (yielded) throw error;
        await this.#beforeRetry(error, attempt, options.signal);
      } finally {
        done();
      }
    }
  }

  /** A signal that fires on the caller's abort or on this attempt's timeout; `restart` re-arms the timeout. */
  #attemptSignal(parent?: AbortSignal): { signal: AbortSignal; done: () => void; restart: () => void } {
    const controller = new AbortController();
    const fire = () => controller.abort(new ModelTimeoutError(this.policy.timeoutMs));
    let timer = setTimeout(fire, this.policy.timeoutMs);
    const onAbort = () => controller.abort(parent?.reason);
    if (parent?.aborted) onAbort();
    else parent?.addEventListener('abort', onAbort, { once: true });
    return {
      signal: controller.signal,
      restart: () => {
        clearTimeout(timer);
        timer = setTimeout(fire, this.policy.timeoutMs);
      },
      done: () => {
        clearTimeout(timer);
        parent?.removeEventListener('abort', onAbort);
      },
    };
  }

  /** Rethrows unless the error is retryable and attempts remain; otherwise waits out the backoff. */
  async #beforeRetry(error: unknown, attempt: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason ?? error;
    if (attempt >= this.policy.maxRetries || !isRetryable(error)) throw error;
    // A provider's Retry-After (429/503) is a floor: retrying sooner only earns another refusal.
    const wait = Math.max(backoffDelay(attempt, this.policy.backoffMs), retryAfterMs(error) ?? 0);
    await delay(wait, signal);
  }

  #observe(started: number, outcome: string): void {
    this.policy.duration?.labels(this.policy.provider, this.policy.model, outcome).observe((performance.now() - started) / 1000);
  }
}
