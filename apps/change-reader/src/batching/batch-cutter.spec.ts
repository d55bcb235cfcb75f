import type { BatchRecord } from '@runnel/checkpoint';
import type { ChangeEnvelope } from '@runnel/lake/records';
import { BatchCutter, type CutterAction, type CutterEvent } from './batch-cutter';

const HOUR = 1_795_000_000 - (1_795_000_000 % 3600); // start of an hour
const tok = (n: number) => ({ _data: `t${n}` });

/** Event `seq` of `collection` at cluster second `sec` (default: all in one hour). */
function ev(seq: number, collection = 'c', sec = HOUR + seq, bytes = 100): CutterEvent {
  const envelope = { collection, seq, cluster_time: `${sec}.1` } as ChangeEnvelope;
  return { envelope, line: `${JSON.stringify({ seq })}\n`, token: tok(seq), tokenBefore: tok(seq - 1), bytes };
}
const cuts = (actions: CutterAction[]) => actions.filter((a) => a.type === 'cut').map((a) => [a.batch.id, a.batch.seqStart, a.batch.seqEnd, a.batch.lines.length]);
const opts = { batchSize: 3, maxBytes: 1_000_000, timeoutMs: 1000 };

describe('BatchCutter', () => {
  it('cuts on BATCH_SIZE, per collection, with interleaved seqs', () => {
    const c = new BatchCutter(opts);
    const actions = [ev(1, 'a'), ev(2, 'b'), ev(3, 'a'), ev(4, 'a'), ev(5, 'b')].flatMap((e) => c.push(e, 0));
    expect(actions.filter((a) => a.type === 'open').map((a) => a.batch.id)).toEqual(['a@1', 'b@2']);
    expect(cuts(actions)).toEqual([['a@1', 1, 4, 3]]);
    const cut = actions.find((a) => a.type === 'cut')!.batch;
    expect(cut.tokenBefore).toEqual(tok(0));
    expect(cut.token).toEqual(tok(4));
    expect(c.bufferedEvents).toBe(2); // b@2 holds seqs 2 and 5
  });

  it('never lets a batch span two hour partitions', () => {
    const c = new BatchCutter({ ...opts, batchSize: 100 });
    const actions = [ev(1, 'a', HOUR + 3598), ev(2, 'a', HOUR + 3599), ev(3, 'a', HOUR + 3600)].flatMap((e) => c.push(e, 0));
    expect(cuts(actions)).toEqual([['a@1', 1, 2, 2]]);
    expect(actions.at(-1)).toMatchObject({ type: 'open', batch: { id: 'a@3', partition: new Date((HOUR + 3600) * 1000).toISOString().slice(0, 13) } });
  });

  it('cuts before the byte cap would be exceeded', () => {
    const c = new BatchCutter({ ...opts, batchSize: 100, maxBytes: 250 });
    const actions = [ev(1, 'a', undefined, 100), ev(2, 'a', undefined, 100), ev(3, 'a', undefined, 100)].flatMap((e) => c.push(e, 0));
    expect(cuts(actions)).toEqual([['a@1', 1, 2, 2]]);
  });

  it('cuts quiet collections on BATCH_TIMEOUT_MS', () => {
    const c = new BatchCutter({ ...opts, batchSize: 100 });
    c.push(ev(1, 'a'), 0);
    c.push(ev(2, 'b'), 600);
    expect(c.due(999)).toEqual([]);
    expect(cuts(c.due(1000))).toEqual([['a@1', 1, 1, 1]]);
    expect(cuts(c.due(1600))).toEqual([['b@2', 2, 2, 1]]);
  });

  it('on replay: skips stored batches, rebuilds cut ones exactly (never by timeout), cuts the rest afresh', () => {
    const records: BatchRecord[] = [
      { id: 'a@1', collection: 'a', seqStart: 1, seqEnd: 5, state: 'done', tokenBefore: tok(0) },
      { id: 'b@2', collection: 'b', seqStart: 2, seqEnd: 6, state: 'cut', tokenBefore: tok(1), token: tok(6) },
      { id: 'a@7', collection: 'a', seqStart: 7, seqEnd: 7, state: 'cut', tokenBefore: tok(6), token: tok(7) }, // a timeout cut
      { id: 'b@8', collection: 'b', seqStart: 8, seqEnd: 8, state: 'open', tokenBefore: tok(7) },
    ];
    const c = new BatchCutter({ ...opts, batchSize: 100 }, records);
    const seqs: [number, string][] = [[1, 'a'], [2, 'b'], [3, 'a'], [4, 'b'], [5, 'a'], [6, 'b'], [7, 'a'], [8, 'b'], [9, 'a']];
    const actions: CutterAction[] = [];
    for (const [s, coll] of seqs) {
      actions.push(...c.push(ev(s, coll), 0));
      actions.push(...c.due(10_000)); // timeouts never cut a replayed batch early
    }
    const cut = actions.filter((a) => a.type === 'cut').map((a) => a.batch);
    expect(cut.map((b) => [b.id, b.seqStart, b.seqEnd, b.lines.map((l) => (JSON.parse(l) as { seq: number }).seq), b.replayed])).toEqual([
      ['b@2', 2, 6, [2, 4, 6], true],
      ['a@7', 7, 7, [7], true],
      ['b@8', 8, 8, [8], false], // the open record is not trusted: re-cut by the normal rules (timeout here)
      ['a@9', 9, 9, [9], false],
    ]);
    expect(cut[0].tokenBefore).toEqual(tok(1));
    expect(actions.filter((a) => a.type === 'open').map((a) => a.batch.id)).toEqual(['b@8', 'a@9']);
  });
});
