import { RUN_TREE_SCRIPT } from './client-run-tree';

interface RunLog {
  state: any;
  order: string[];
}
const script = new Function(`${RUN_TREE_SCRIPT}; return { newRunLog, applyRunLogPatch, runParents };`)() as {
  newRunLog(): RunLog;
  applyRunLogPatch(log: RunLog, ops: unknown[]): void;
  runParents(log: RunLog): Record<string, string>;
};

const entry = (name: string, tags: string[]) => ({ id: name, name, type: 'chain', tags, metadata: {}, start_time: 't', streamed_output: [], streamed_output_str: [], final_output: null, end_time: null });
const start = (name: string, ...tags: string[]) => ({ op: 'add', path: `/logs/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, value: entry(name, tags) });
const end = (name: string) => ({ op: 'add', path: `/logs/${name.replace(/~/g, '~0').replace(/\//g, '~1')}/end_time`, value: 't2' });
const root = { op: 'replace', path: '', value: { id: 'r', name: '/nested', type: 'chain', streamed_output: [], final_output: null, logs: {} } };

function parentsAfter(ops: unknown[]): Record<string, string> {
  const log = script.newRunLog();
  for (const op of ops) script.applyRunLogPatch(log, [op]);
  return script.runParents(log);
}

describe('page script: stream_log run tree nesting', () => {
  it('a streaming sequence: the next step starts before the previous one ends, and stays its sibling', () => {
    // The order the gateway sends for prepare → (inner-a → inner-b) → {left, right}, as captured.
    const ops = [
      root,
      start('prepare', 'seq:step:1'),
      end('prepare'),
      start('inner', 'seq:step:2'),
      start('inner-a', 'seq:step:1'),
      start('inner-b', 'seq:step:2'),
      end('inner-a'),
      start('RunnableMap', 'seq:step:3'),
      end('inner-b'),
      end('inner'),
      start('left', 'map:key:left'),
      start('right', 'map:key:right'),
      end('left'),
      end('right'),
      end('RunnableMap'),
    ];
    expect(parentsAfter(ops)).toEqual({ prepare: '', inner: '', 'inner-a': 'inner', 'inner-b': 'inner', RunnableMap: '', left: 'RunnableMap', right: 'RunnableMap' });
  });

  it('parallel branches that overlap: a branch goes under the map, a run inside one goes under the branch that held it and ended first', () => {
    const ops = [
      root,
      start('RunnableMap'),
      start('right', 'map:key:right'),
      start('left', 'map:key:left'),
      start('right-1', 'seq:step:1'),
      start('right-2', 'seq:step:2'),
      end('right-1'),
      end('right-2'),
      end('right'),
      end('left'),
      end('RunnableMap'),
    ];
    expect(parentsAfter(ops)).toEqual({ RunnableMap: '', right: 'RunnableMap', left: 'RunnableMap', 'right-1': 'right', 'right-2': 'right' });
  });

  it('while runs are open, a new run goes under the latest-started open one; JSON-pointer escapes in names are undone', () => {
    const log = script.newRunLog();
    script.applyRunLogPatch(log, [root, start('a/b~c'), start('child')]);
    expect(log.order).toEqual(['a/b~c', 'child']);
    expect(script.runParents(log)).toEqual({ 'a/b~c': '', child: 'a/b~c' });
    script.applyRunLogPatch(log, [{ op: 'add', path: '/logs/child/final_output', value: { output: 1 } }, end('child'), start('later')]);
    expect(log.state.logs.child.final_output).toEqual({ output: 1 });
    expect(script.runParents(log)).toEqual({ 'a/b~c': '', child: 'a/b~c', later: 'a/b~c' });
  });

  it('applies streamed_output appends and replace of final_output on the root', () => {
    const log = script.newRunLog();
    script.applyRunLogPatch(log, [
      root,
      { op: 'add', path: '/streamed_output/-', value: 'a' },
      { op: 'replace', path: '/final_output', value: 'a' },
      { op: 'add', path: '/streamed_output/-', value: 'b' },
      { op: 'replace', path: '/final_output', value: 'ab' },
    ]);
    expect(log.state.streamed_output).toEqual(['a', 'b']);
    expect(log.state.final_output).toBe('ab');
  });
});
