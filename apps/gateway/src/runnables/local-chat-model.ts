import { BaseChatModel, type BaseChatModelParams } from '@langchain/core/language_models/chat_models';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import { AIMessage, AIMessageChunk, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import { abortableDelay } from './abortable-delay';
import { words } from './echo-runnable';

export const LOCAL_MODEL_LABEL = '[runnel local model]';

export interface LocalChatModelParams extends BaseChatModelParams {
  /** Pause between streamed tokens; lets tests and demos see streaming and cancellation. */
  tokenDelayMs?: number;
}

function text(message: BaseMessage | undefined): string {
  if (!message) return '';
  return typeof message.content === 'string'
    ? message.content
    : message.content.map((p) => ('text' in p && typeof p.text === 'string' ? p.text : '')).join('');
}

/**
 * The chat model used when no provider key is configured: deterministic, offline, and labelled in
 * every answer so nobody mistakes it for a real model. It answers by restating the last user turn.
 */
export class LocalChatModel extends BaseChatModel {
  readonly tokenDelayMs: number;

  constructor(params: LocalChatModelParams = {}) {
    super(params);
    this.tokenDelayMs = params.tokenDelayMs ?? 0;
  }

  static override lc_name(): string {
    return 'LocalChatModel';
  }

  _llmType(): string {
    return 'runnel-local';
  }

  static reply(messages: BaseMessage[]): string {
    const lastHuman = [...messages].reverse().find((m) => m.getType() === 'human');
    return `${LOCAL_MODEL_LABEL} You said: ${text(lastHuman ?? messages.at(-1))}`;
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions'], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    let content = '';
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) content += chunk.text;
    return { generations: [{ text: content, message: new AIMessage({ content, response_metadata: { model: 'runnel-local' } }) }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    for (const token of words(LocalChatModel.reply(messages))) {
      if (this.tokenDelayMs > 0) await abortableDelay(this.tokenDelayMs, options.signal);
      options.signal?.throwIfAborted();
      const chunk = new ChatGenerationChunk({ text: token, message: new AIMessageChunk({ content: token }) });
      yield chunk;
      await runManager?.handleLLMNewToken(token, undefined, undefined, undefined, undefined, { chunk });
    }
  }
}
