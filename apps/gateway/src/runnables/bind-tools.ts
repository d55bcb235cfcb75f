import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { BaseChatModel, BindToolsInput } from '@langchain/core/language_models/chat_models';
import type { AIMessageChunk } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';

/**
 * `bindTools` for the gateway's own chat models: the tools travel in the call options, in OpenAI's
 * tool format (which ChatOpenAI, ChatAnthropic and the local model all read), down to `_generate`.
 */
export function bindToolsAsCallOptions(model: BaseChatModel, tools: BindToolsInput[]): Runnable<BaseLanguageModelInput, AIMessageChunk> {
  return model.withConfig({ tools: tools.map((t) => convertToOpenAITool(t)) } as Partial<BaseChatModel['ParsedCallOptions']>);
}
