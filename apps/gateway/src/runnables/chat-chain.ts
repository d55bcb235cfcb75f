import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { BaseMessage } from '@langchain/core/messages';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import type { Runnable } from '@langchain/core/runnables';
import { z } from 'zod';

const WireMessage = z.object({
  type: z.enum(['human', 'ai', 'system', 'tool', 'function', 'generic', 'chat']).describe('Message role'),
  content: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]),
});

export const ChatInput = z
  .object({
    input: z.string().min(1, 'must not be empty').describe('What the user says'),
    history: z.array(WireMessage).optional().describe('Earlier turns, oldest first'),
  })
  .strict();

export const ChatOutput = z.string().describe('The model answer');

export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant. Answer concisely.';

/** Built-in `chat`: prompt → chat model (or models with fallbacks) → string. */
export function createChatChain(model: Runnable<BaseLanguageModelInput, BaseMessage>, systemPrompt = DEFAULT_SYSTEM_PROMPT): Runnable {
  const prompt = ChatPromptTemplate.fromMessages([
    ['system', systemPrompt],
    new MessagesPlaceholder({ variableName: 'history', optional: true }),
    ['human', '{input}'],
  ]);
  return prompt.pipe(model).pipe(new StringOutputParser()).withConfig({ runName: 'chat' });
}
