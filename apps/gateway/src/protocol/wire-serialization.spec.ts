import { AIMessageChunk } from '@langchain/core/messages';
import { toWire } from './wire-serialization';

describe('toWire', () => {
  it('returns plain JSON as itself: no copy per chunk', () => {
    const chunk = { text: 'hi', n: 1, nested: { list: [1, 'a', { ok: true }] } };
    expect(toWire(chunk)).toBe(chunk);
    const list = [1, { a: [2] }];
    expect(toWire(list)).toBe(list);
  });

  it('copies only what holds a LangChain object, leaving the input as it was', () => {
    const message = new AIMessageChunk({ content: 'x' });
    const input = { keep: { a: 1 }, out: [1, message], tail: 'z' };
    const wire = toWire(input) as typeof input;
    expect(wire).not.toBe(input);
    expect(wire.keep).toBe(input.keep);
    expect(Object.keys(wire)).toEqual(['keep', 'out', 'tail']);
    expect(wire.out[1]).toMatchObject({ content: 'x', type: 'AIMessageChunk' });
    expect(input.out[1]).toBe(message);
  });

  it('writes the same JSON as before for undefined and function values (JSON.stringify drops them from objects)', () => {
    const value = { a: undefined, f: () => 1, d: new Date(0), arr: [undefined, 1] };
    expect(JSON.stringify(toWire(value))).toBe('{"d":"1970-01-01T00:00:00.000Z","arr":[null,1]}');
  });
});
