import { AIMessage, AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import { serializeData, serializeError, serializeEvent } from './serialize-event';

describe('serializeEvent', () => {
  it('gives messages at any depth in their dict form {...data, type}', () => {
    const human = new HumanMessage({ content: 'hi', id: 'h1' });
    const ai = new AIMessageChunk({ content: 'yo', id: 'a1' });
    const parsed = JSON.parse(serializeEvent({ event: 'values', data: { messages: [human], tuple: [ai, { langgraph_node: 'n' }] } }));
    expect(parsed.messages).toEqual([{ content: 'hi', id: 'h1', additional_kwargs: {}, response_metadata: {}, type: 'human' }]);
    expect(parsed.tuple[0]).toMatchObject({ content: 'yo', id: 'a1', type: 'ai', tool_call_chunks: [] });
    expect(parsed.tuple[1]).toEqual({ langgraph_node: 'n' });
    expect(JSON.parse(serializeData(new AIMessage('top')))).toMatchObject({ content: 'top', type: 'ai' });
  });

  it('is plain JSON otherwise (dates as ISO, undefined as null)', () => {
    expect(serializeData({ a: 1, at: new Date('2026-01-02T03:04:05.000Z'), u: undefined })).toBe('{"a":1,"at":"2026-01-02T03:04:05.000Z"}');
    expect(serializeData(undefined)).toBe('null');
  });

  it('serializeError: name and message, or the JSON of a non-error', () => {
    expect(serializeError(new TypeError('bad'))).toEqual({ error: 'TypeError', message: 'bad' });
    expect(serializeError({ x: 1 })).toEqual({ error: 'Error', message: '{"x":1}' });
  });
});
