import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { Secret } from '@runnel/config';
import type { Histogram } from '@runnel/metrics';
import { LocalChatModel } from './local-chat-model';
import { ResilientChatModel } from './resilient-chat-model';

export interface ChatModelSettings {
  openaiApiKey?: Secret;
  openaiBaseUrl?: string;
  openaiModel: string;
  anthropicApiKey?: Secret;
  anthropicModel: string;
  localTokenDelayMs: number;
  timeoutMs: number;
  maxRetries: number;
  backoffMs: number;
  duration?: Histogram<'provider' | 'model' | 'outcome'>;
}

export interface ChatModelChoice {
  model: BaseChatModel;
  provider: 'openai' | 'anthropic' | 'local';
  modelName: string;
}

/**
 * Picks the chat model: OpenAI (or any OpenAI-compatible server at OPENAI_BASE_URL) when its key is
 * set, else Anthropic when its key is set, else the local deterministic model. Provider SDK retries
 * are off: ResilientChatModel owns timeouts and retries so MAX_RETRIES means the same everywhere.
 */
export function createChatModel(s: ChatModelSettings): ChatModelChoice {
  const policy = { timeoutMs: s.timeoutMs, maxRetries: s.maxRetries, backoffMs: s.backoffMs, duration: s.duration };
  // Provider SDKs load only when configured: together they cost ~19 MiB of memory per process.
  if (s.openaiApiKey) {
    const { ChatOpenAICompletions } = require('@langchain/openai') as typeof import('@langchain/openai');
    const inner = new ChatOpenAICompletions({
      model: s.openaiModel,
      apiKey: s.openaiApiKey.reveal(),
      configuration: s.openaiBaseUrl ? { baseURL: s.openaiBaseUrl } : undefined,
      maxRetries: 0,
      streamUsage: false,
    });
    return { model: new ResilientChatModel({ inner, provider: 'openai', model: s.openaiModel, ...policy }), provider: 'openai', modelName: s.openaiModel };
  }
  if (s.anthropicApiKey) {
    const { ChatAnthropic } = require('@langchain/anthropic') as typeof import('@langchain/anthropic');
    const inner = new ChatAnthropic({ model: s.anthropicModel, apiKey: s.anthropicApiKey.reveal(), maxRetries: 0 });
    return {
      model: new ResilientChatModel({ inner, provider: 'anthropic', model: s.anthropicModel, ...policy }),
      provider: 'anthropic',
      modelName: s.anthropicModel,
    };
  }
  const inner = new LocalChatModel({ tokenDelayMs: s.localTokenDelayMs });
  return { model: new ResilientChatModel({ inner, provider: 'local', model: 'runnel-local', ...policy }), provider: 'local', modelName: 'runnel-local' };
}
