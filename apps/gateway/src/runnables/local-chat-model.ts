import { BaseChatModel, type BaseChatModelParams } from '@langchain/core/language_models/chat_models';
import type { CallbackManagerForLLMRun } from '@langchain/core/callbacks/manager';
import { AIMessage, AIMessageChunk, type BaseMessage, ToolMessage } from '@langchain/core/messages';
import type { BaseLanguageModelInput, ToolDefinition } from '@langchain/core/language_models/base';
import type { Runnable } from '@langchain/core/runnables';
import type { BindToolsInput } from '@langchain/core/language_models/chat_models';
import { bindToolsAsCallOptions } from './bind-tools';
import { ChatGenerationChunk, type ChatResult } from '@langchain/core/outputs';
import { delay } from '@runnel/service';
import { words } from './echo-runnable';

export const LOCAL_MODEL_LABEL = '[runnel local model]';

/** The tool the local model knows how to call (the built-in agent's). */
export const CURRENT_TIME_TOOL = 'current_time';

/** The call options bindTools adds: the tools (OpenAI tool format). */
interface BoundTools {
  tools?: ToolDefinition[];
}

/** Words in a user turn that make the local model call a bound `current_time` tool. */
const ASKS_TIME = /\b(time|date|today|clock)\b/i;

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

  /**
   * Tools as the providers' models take them, so agents built on the local model run their tool
   * loop offline: with a `current_time` tool bound, a user turn asking for the time or date gets a
   * tool call, and the tool's answer gets restated.
   */
  override bindTools(tools: BindToolsInput[]): Runnable<BaseLanguageModelInput, AIMessageChunk> {
    return bindToolsAsCallOptions(this, tools);
  }

  /** The tool call the local model makes for this turn, if any (see bindTools). */
  private static toolCall(messages: BaseMessage[], tools: ToolDefinition[] | undefined): { name: string; args: Record<string, unknown>; id: string } | undefined {
    const last = messages.at(-1);
    if (!last || last.getType() !== 'human' || !tools?.some((t) => t.function?.name === CURRENT_TIME_TOOL)) return undefined;
    if (!ASKS_TIME.test(text(last))) return undefined;
    return { name: CURRENT_TIME_TOOL, args: {}, id: `call_local_${messages.length}` };
  }

  static reply(messages: BaseMessage[]): string {
    const last = messages.at(-1);
    if (last instanceof ToolMessage) return `${LOCAL_MODEL_LABEL} ${last.name ?? 'The tool'} says: ${text(last)}`;
    const lastHuman = [...messages].reverse().find((m) => m.getType() === 'human');
    return `${LOCAL_MODEL_LABEL} You said: ${text(lastHuman ?? messages.at(-1))}`;
  }

  async _generate(messages: BaseMessage[], options: this['ParsedCallOptions'], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    const call = LocalChatModel.toolCall(messages, (options as BoundTools).tools);
    if (call) return { generations: [{ text: '', message: new AIMessage({ content: '', tool_calls: [{ ...call, type: 'tool_call' }], response_metadata: { model: 'runnel-local' } }) }] };
    let content = '';
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) content += chunk.text;
    return { generations: [{ text: content, message: new AIMessage({ content, response_metadata: { model: 'runnel-local' } }) }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this['ParsedCallOptions'],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const call = LocalChatModel.toolCall(messages, (options as BoundTools).tools);
    if (call) {
      const message = new AIMessageChunk({ content: '', tool_call_chunks: [{ name: call.name, args: JSON.stringify(call.args), id: call.id, index: 0, type: 'tool_call_chunk' }] });
      yield new ChatGenerationChunk({ text: '', message });
      return;
    }
    for (const token of words(LocalChatModel.reply(messages))) {
      if (this.tokenDelayMs > 0) await delay(this.tokenDelayMs, options.signal);
      options.signal?.throwIfAborted();
      const chunk = new ChatGenerationChunk({ text: token, message: new AIMessageChunk({ content: token }) });
      yield chunk;
      await runManager?.handleLLMNewToken(token, undefined, undefined, undefined, undefined, { chunk });
    }
  }
}
