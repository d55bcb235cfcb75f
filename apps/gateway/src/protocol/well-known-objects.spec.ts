import { Document } from '@langchain/core/documents';
import { AIMessage, AIMessageChunk, HumanMessage } from '@langchain/core/messages';
import { ChatGenerationChunk } from '@langchain/core/outputs';
import { serializeOutput, wellKnownToWire } from './well-known-objects';
import { toWire } from './wire-serialization';

const twoSteps = (value: unknown) => toWire(wellKnownToWire(value, 0));

function nest(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { v };
  return v;
}

describe('serializeOutput (one walk) = toWire(wellKnownToWire(…)) (two)', () => {
  const message = new AIMessage({ content: 'hi', tool_calls: [{ name: 't', args: { a: 1 }, id: '1' }] });
  const fixtures: Record<string, unknown> = {
    scalar: 3,
    string: 'x',
    null: null,
    plain: { index: 1, of: 8, input: { text: 'hello', n: 42 } },
    nullProto: Object.assign(Object.create(null), { a: { b: 1 } }),
    array: [1, 'a', { ok: true }, [null, undefined]],
    message,
    messagesInPlain: { messages: [new HumanMessage('q'), message], keep: { x: 1 } },
    chunk: new AIMessageChunk({ content: 'c' }),
    document: new Document({ pageContent: 'p', metadata: { m: [new HumanMessage('in metadata')] } }),
    documentsInArray: [new Document({ pageContent: 'p', id: 'd1' }), { page: 1 }],
    agentAction: { tool: 'search', toolInput: { q: new HumanMessage('x') }, log: 'l' },
    agentActionLog: { tool: 'search', toolInput: 'q', log: 'l', messageLog: [message], toolCallId: 'c1' },
    agentFinish: { returnValues: { output: 'done', msg: message }, log: 'l' },
    llmResult: { generations: [[{ text: 't', generationInfo: { a: 1 } }, { text: 'u', message }]], llmOutput: { usage: 1 }, __run: { runId: 'r' } },
    generationChunk: new ChatGenerationChunk({ text: 't', message: new AIMessageChunk('t') }),
    nestedKnown: { steps: [[{ tool: 'a', toolInput: {}, log: '' }, 'obs']], date: new Date(0), err: new Error('boom') },
    messageLikePlain: { _getType: () => 'human', getType: () => 'human', content: 'looks like one', additional_kwargs: { tool: 'x', toolInput: 1, log: 'y' } },
    deep: nest(70, { tool: 'deep', toolInput: 1, log: 'past MAX_DEPTH' }),
    deepMessage: nest(66, new HumanMessage('deep')),
    classInstance: new (class Point {
      x = 1;
      y = { tool: 'p', toolInput: 2, log: '' };
    })(),
  };

  for (const [name, value] of Object.entries(fixtures)) {
    it(`writes the same JSON: ${name}`, () => {
      expect(JSON.stringify(serializeOutput(value))).toBe(JSON.stringify(twoSteps(value)));
    });
  }

  it('returns plain JSON as itself, and copies only what changed', () => {
    const plain = fixtures.plain as object;
    expect(serializeOutput(plain)).toBe(plain);
    const mixed = { keep: { a: 1 }, out: [1, message] };
    const wire = serializeOutput(mixed) as typeof mixed;
    expect(wire).not.toBe(mixed);
    expect(wire.keep).toBe(mixed.keep);
    expect(mixed.out[1]).toBe(message);
  });
});
