import { AIMessageChunk } from '@langchain/core/messages';
import { mergeConfigs } from '../src/protocol/config-merge';
import { pythonJsonDumps, runIdMetadata } from '../src/protocol/langserve-json';
import { RunLogPatches } from '../src/protocol/run-log-patches';

describe('pythonJsonDumps', () => {
  it('writes what Python json.dumps writes (separators, ensure_ascii)', () => {
    // Expected strings printed by CPython 3.11's json.dumps.
    expect(pythonJsonDumps({ run_id: 'abc', feedback_tokens: [{ key: 'k', expires_at: null }] })).toBe(
      '{"run_id": "abc", "feedback_tokens": [{"key": "k", "expires_at": null}]}',
    );
    expect(pythonJsonDumps({ status_code: 500, message: 'Internal Server Error' })).toBe('{"status_code": 500, "message": "Internal Server Error"}');
    expect(pythonJsonDumps({ s: 'héllo ☃ \u{1F600} \x7f \n"', f: 1.5, b: true, e: [], o: {} })).toBe(
      '{"s": "h\\u00e9llo \\u2603 \\ud83d\\ude00 \\u007f \\n\\"", "f": 1.5, "b": true, "e": [], "o": {}}',
    );
  });

  it('runIdMetadata writes the metadata event as pythonJsonDumps({ run_id }) does', () => {
    for (const id of ['0b8d1f3e-7c1a-4b7e-9a57-3f0c2d6e8a11', '', 'h\u00e9"\n']) expect(runIdMetadata(id)).toBe(pythonJsonDumps({ run_id: id }));
  });
});

describe('mergeConfigs (merge_configs)', () => {
  it('unions tags as a sorted set, merges metadata and configurable, replaces other keys', () => {
    expect(
      mergeConfigs(
        { tags: ['test', 'x'], metadata: { a: 1, b: 1 }, configurable: { k: 1 }, recursion_limit: 5 },
        undefined,
        { tags: ['another-one', 'x'], metadata: { b: 2 }, configurable: { j: 2 }, recursion_limit: 7 },
      ),
    ).toEqual({ tags: ['another-one', 'test', 'x'], metadata: { a: 1, b: 2 }, configurable: { k: 1, j: 2 }, recursion_limit: 7 });
    expect(mergeConfigs()).toEqual({});
    expect(mergeConfigs({ recursion_limit: 5 }, { recursion_limit: 25 })).toEqual({ recursion_limit: 5 });
    expect(mergeConfigs({ recursion_limit: 25 })).toEqual({ recursion_limit: 25 });
  });
});

describe('RunLogPatches', () => {
  const root = { op: 'replace', path: '', value: { id: 'r', name: '/x', type: 'chain', streamed_output: [], logs: {} } };

  it('adds replace /final_output with the accumulated output to each root chunk, drops LangChain.js’s own', () => {
    const p = new RunLogPatches();
    expect(p.adapt([root])).toEqual([{ ...root, value: { ...root.value, final_output: null } }]);
    const a = new AIMessageChunk({ content: 'he', id: 'm' });
    const b = new AIMessageChunk({ content: 'llo', id: 'm' });
    p.adapt([{ op: 'add', path: '/streamed_output/-', value: a }]);
    const [, final] = p.adapt([{ op: 'add', path: '/streamed_output/-', value: b }]);
    expect(final.path).toBe('/final_output');
    expect((final.value as AIMessageChunk).content).toBe('hello');
    expect(p.adapt([{ op: 'replace', path: '/final_output', value: { output: 'x' } }])).toEqual([]);
    expect(p.adapt([{ op: 'replace', path: '/final_output' }])).toEqual([]);
  });

  it('falls back to the latest chunk when chunks do not add up, as Python does on TypeError', () => {
    const p = new RunLogPatches();
    p.adapt([{ op: 'add', path: '/streamed_output/-', value: 'text' }]);
    expect(p.adapt([{ op: 'add', path: '/streamed_output/-', value: true }])[1]).toEqual({ op: 'replace', path: '/final_output', value: true });
  });

  it('gives child entries null final_output/end_time and every op a value', () => {
    const p = new RunLogPatches();
    const [entry] = p.adapt([{ op: 'add', path: '/logs/Child', value: { id: 'c', name: 'Child', final_output: undefined, end_time: undefined } }]);
    expect(entry.value).toEqual({ id: 'c', name: 'Child', final_output: null, end_time: null });
    expect(p.adapt([{ op: 'add', path: '/logs/Child/final_output' }, { op: 'add', path: '/logs/Child/end_time', value: 't' }])).toEqual([
      { op: 'add', path: '/logs/Child/final_output', value: null },
      { op: 'add', path: '/logs/Child/end_time', value: 't' },
    ]);
  });
});
