import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { type AIMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { END, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { z } from 'zod';
import { CURRENT_TIME_TOOL } from '../../runnables/local-chat-model';

export const BUILTIN_AGENT_ID = 'agent';

/** The built-in agent's one tool: the server's clock (a tool any model can use, with no key or network). */
export const currentTime = tool(async ({ timezone }) => new Date().toLocaleString('en-GB', { timeZone: timezone ?? 'UTC', timeZoneName: 'short' }), {
  name: CURRENT_TIME_TOOL,
  description: 'The current date and time, in a given IANA time zone (UTC when none is given).',
  schema: z.object({ timezone: z.string().optional().describe('IANA time zone, e.g. Europe/Paris') }),
});

/**
 * The graph `npm start` serves as `agent`: a chat agent with memory (the thread's checkpoints) on
 * the gateway's chat model (the configured provider, or the local model), which may call
 * `current_time`. Model → tools → model until the model answers without a tool call.
 */
export function createBuiltinAgent(model: BaseChatModel) {
  const tools = [currentTime];
  // A model without tool calling fails here, at start-up, rather than an agent chatting without its tool.
  const bound = model.bindTools ? model.bindTools(tools) : model;
  const system = new SystemMessage('You are a helpful assistant. Use current_time when asked about the date or time.');
  return new StateGraph(MessagesAnnotation)
    .addNode('agent', async (state, config) => ({ messages: [await bound.invoke([system, ...state.messages], config)] }))
    .addNode('tools', new ToolNode(tools))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', (state) => ((state.messages.at(-1) as AIMessage | undefined)?.tool_calls?.length ? 'tools' : END), ['tools', END])
    .addEdge('tools', 'agent')
    .compile();
}
