import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { AIMessageChunk } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';
import type { Secret } from '@runnel/config';
import type { Histogram } from '@runnel/metrics';
import { LocalChatModel } from './local-chat-model';
import { withProviderFallbacks } from './provider-fallbacks';
import { ResilientChatModel } from './resilient-chat-model';

export const CHAT_PROVIDER_NAMES = ['openai', 'anthropic', 'local'] as const;
export type ChatProvider = (typeof CHAT_PROVIDER_NAMES)[number];

export interface ChatModelSettings {
  /** Providers in fallback order (CHAT_PROVIDERS); unset: OpenAI, then Anthropic, for the keys that are set; local with neither. */
  providers?: ChatProvider[];
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
  /** Called when `chat` moves on from a failed provider to the next one. */
  onFallback?: (from: string, to: string, error: unknown) => void;
}

export interface ChatModelChoice {
  /** The first provider's model (what RUNNABLES_MODULE gets as `chatModel`). */
  model: BaseChatModel;
  provider: ChatProvider;
  modelName: string;
  /** Every provider in fallback order, the first one included. */
  providers: { provider: ChatProvider; modelName: string; model: BaseChatModel }[];
  /** The models in order behind LangChain's `withFallbacks` (the first model alone when there is one). */
  runnable: Runnable<BaseLanguageModelInput, AIMessageChunk>;
}

/** The providers `chat` uses: CHAT_PROVIDERS as given (each with its key), else those whose keys are set. */
export function resolveChatProviders(s: Pick<ChatModelSettings, 'providers' | 'openaiApiKey' | 'anthropicApiKey'>): ChatProvider[] {
  if (s.providers && s.providers.length > 0) {
    if (s.providers.includes('openai') && !s.openaiApiKey) throw new Error('CHAT_PROVIDERS lists openai but OPENAI_API_KEY is not set');
    if (s.providers.includes('anthropic') && !s.anthropicApiKey) throw new Error('CHAT_PROVIDERS lists anthropic but ANTHROPIC_API_KEY is not set');
    return [...s.providers];
  }
  const found: ChatProvider[] = [];
  if (s.openaiApiKey) found.push('openai');
  if (s.anthropicApiKey) found.push('anthropic');
  return found.length > 0 ? found : ['local'];
}

/**
 * Builds the chat models: OpenAI (or any OpenAI-compatible server at OPENAI_BASE_URL), Anthropic and the
 * local deterministic model, in the order CHAT_PROVIDERS (or the keys that are set) gives, each wrapped in
 * its own ResilientChatModel, then chained with LangChain's `withFallbacks`: the next provider is asked
 * only once a provider's retries are spent (see shouldFallBack). Provider SDK retries are off:
 * ResilientChatModel owns timeouts and retries so MAX_RETRIES means the same everywhere.
 */
export function createChatModel(s: ChatModelSettings): ChatModelChoice {
  const providers = resolveChatProviders(s).map((provider) => ({ provider, ...buildModel(provider, s) }));
  const runnable = withProviderFallbacks(providers, s.onFallback);
  const [first] = providers;
  return { model: first.model, provider: first.provider, modelName: first.modelName, providers, runnable };
}

function buildModel(provider: ChatProvider, s: ChatModelSettings): { model: BaseChatModel; modelName: string } {
  const policy = { timeoutMs: s.timeoutMs, maxRetries: s.maxRetries, backoffMs: s.backoffMs, duration: s.duration };
  // Provider SDKs load only when configured: together they cost ~19 MiB of memory per process.
  if (provider === 'openai') {
    const { ChatOpenAICompletions } = require('@langchain/openai') as typeof import('@langchain/openai');
    const inner = new ChatOpenAICompletions({
      model: s.openaiModel,
      apiKey: s.openaiApiKey?.reveal(),
      configuration: s.openaiBaseUrl ? { baseURL: s.openaiBaseUrl } : undefined,
      maxRetries: 0,
      streamUsage: false,
    });
    return { model: new ResilientChatModel({ inner, provider: 'openai', model: s.openaiModel, ...policy }), modelName: s.openaiModel };
  }
  if (provider === 'anthropic') {
    const { ChatAnthropic } = require('@langchain/anthropic') as typeof import('@langchain/anthropic');
    const inner = new ChatAnthropic({ model: s.anthropicModel, apiKey: s.anthropicApiKey?.reveal(), maxRetries: 0 });
    return { model: new ResilientChatModel({ inner, provider: 'anthropic', model: s.anthropicModel, ...policy }), modelName: s.anthropicModel };
  }
  const inner = new LocalChatModel({ tokenDelayMs: s.localTokenDelayMs });
  return { model: new ResilientChatModel({ inner, provider: 'local', model: 'runnel-local', ...policy }), modelName: 'runnel-local' };
}
