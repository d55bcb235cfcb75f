import { z } from 'zod';
import { ChatInput } from '../runnables/chat-chain';
import { CHAT_SCRIPT } from './client-chat';

const chat = new Function(`${CHAT_SCRIPT}; return { detectChatShape, chatTurnInput, chunkText };`)() as {
  detectChatShape(schema: unknown): Record<string, string> | null;
  chatTurnInput(shape: Record<string, string>, history: unknown[], text: string): unknown;
  chunkText(chunk: unknown): string | null;
};

const schemaOf = (s: z.ZodType) => z.toJSONSchema(s, { unrepresentable: 'any', io: 'input' });
const Message = z.object({ type: z.enum(['human', 'ai', 'system']), content: z.string() });

describe('page script: chat mode', () => {
  it('detects message inputs from their JSON schema', () => {
    expect(chat.detectChatShape(schemaOf(ChatInput))).toEqual({ kind: 'input+history', inputKey: 'input', historyKey: 'history', roleKey: 'type' });
    expect(chat.detectChatShape(schemaOf(z.array(Message)))).toEqual({ kind: 'list', roleKey: 'type' });
    expect(chat.detectChatShape(schemaOf(z.object({ messages: z.array(Message) })))).toEqual({ kind: 'messages', key: 'messages', roleKey: 'type' });
    const RoleMessage = z.object({ role: z.enum(['user', 'assistant']), content: z.string() });
    expect(chat.detectChatShape(schemaOf(z.array(RoleMessage)))).toEqual({ kind: 'list', roleKey: 'role' });
    // Through $defs references, as pydantic writes them.
    const pydantic = {
      $defs: { HumanMessage: { properties: { content: { type: 'string' }, type: { const: 'human' } } } },
      type: 'object',
      properties: { messages: { type: 'array', items: { $ref: '#/$defs/HumanMessage' } } },
    };
    expect(chat.detectChatShape(pydantic)).toEqual({ kind: 'messages', key: 'messages', roleKey: 'type' });
    const selfReferencing = { $defs: { M: { anyOf: [{ $ref: '#/$defs/M' }] } }, type: 'array', items: { $ref: '#/$defs/M' } };
    for (const other of [{}, { type: 'string' }, selfReferencing, schemaOf(z.object({ a: z.string(), b: z.array(z.number()) })), schemaOf(z.array(z.string()))]) {
      expect(chat.detectChatShape(other)).toBeNull();
    }
  });

  it('builds each turn from the history', () => {
    const history = [
      { type: 'human', content: 'hi' },
      { type: 'ai', content: 'hello' },
    ];
    expect(chat.chatTurnInput({ kind: 'input+history', inputKey: 'q', historyKey: 'h', roleKey: 'type' }, history, 'next')).toEqual({ q: 'next', h: history });
    expect(chat.chatTurnInput({ kind: 'list', roleKey: 'type' }, history, 'next')).toEqual([...history, { type: 'human', content: 'next' }]);
    expect(chat.chatTurnInput({ kind: 'messages', key: 'messages', roleKey: 'role' }, [], 'next')).toEqual({ messages: [{ role: 'user', content: 'next' }] });
  });

  it('reads reply text from strings, LangServe message chunks and LangChain constructor objects', () => {
    expect(chat.chunkText(' tok')).toBe(' tok');
    expect(chat.chunkText({ content: 'a', type: 'AIMessageChunk', additional_kwargs: {} })).toBe('a');
    expect(chat.chunkText({ type: 'ai', content: [{ type: 'text', text: 'b' }, { type: 'image_url' }] })).toBe('b');
    expect(chat.chunkText({ lc: 1, type: 'constructor', id: ['langchain_core', 'messages', 'AIMessageChunk'], kwargs: { content: 'c' } })).toBe('c');
    expect(chat.chunkText({ answer: 1 })).toBeNull();
    expect(chat.chunkText([1])).toBeNull();
  });
});
