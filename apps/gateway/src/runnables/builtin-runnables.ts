import type { RunnableRegistry } from '../registry/runnable-registry';
import { ChatInput, ChatOutput, createChatChain } from './chat-chain';
import type { ChatModelChoice } from './chat-model-factory';
import { EchoRunnable } from './echo-runnable';

/** Registers `echo` and `chat`, the runnables on by default. */
export function registerBuiltins(registry: RunnableRegistry, chat: ChatModelChoice): void {
  registry.addRoutes(new EchoRunnable(), {
    path: 'echo',
    description: 'Returns its input. A string input streams back word by word.',
    exampleInput: 'hello from the playground',
  });
  registry.addRoutes(createChatChain(chat.runnable), {
    path: 'chat',
    inputSchema: ChatInput,
    outputSchema: ChatOutput,
    description:
      chat.provider === 'local'
        ? 'Chat with the local deterministic model (no provider key configured; answers are labelled [runnel local model]).'
        : `Chat with ${chat.providers.map((p) => `${p.provider} model ${p.modelName}`).join(', falling back to ')}.`,
    exampleInput: { input: 'What is LangServe?' },
  });
}
