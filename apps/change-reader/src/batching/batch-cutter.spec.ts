import type { BatchRecord } from '@runnel/checkpoint';
import type { ChangeEnvelope } from '@runnel/lake/records';
import { BatchCutter, type CutterAction, type CutterEvent, cutSize } from './batch-cutter';

const HOUR = 1_795_000_000 - (1_795_000_000 % 3600); // start of an hour
const tok = (n: number) => ({ _data: `t${n}` });

/** Event `seq` of `shop.<collection>` at cluster second `sec` (default: all in one hour, one second apart). */
function ev(seq: number, collection: string | null = 'c', sec = HOUR + seq, bytes = 100): CutterEvent {
  const envelope = { database: 'shop', collection, seq, operation: 'insert', cluster_time: `${sec}.1` } as ChangeEnvelope;
  return { envelope, line: `${JSON.stringify({ seq })}\n`, token: tok(seq), tokenBefore: tok(seq - 1), bytes };
}
const G = 1_795_000_000;
const id = (ns: string, seq: number) => `${G}:shop.${ns}@${seq}`;
const cuts = (actions: CutterAction[]) => actions.filter((a) => a.type === 'cut').map((a) => [a.batch.id, a.batch.seqStart, a.batch.seqEnd, a.batch.lines.length]);
const opts = { batchSize: 3, maxBytes: 1_000_000, timeoutMs: 100_000 };

describe('BatchCutter', () => {
  it('cuts on BATCH_SIZE, per collection, with interleaved seqs', () => {
    const c = new BatchCutter(opts, G);
    const actions = [ev(1, 'a'), ev(2, 'b'), ev(3, 'a'), ev(4, 'a'), ev(5, 'b')].flatMap((e) => c.push(e));
    expect(actions.filter((a) => a.type === 'open').map((a) => a.batch.id)).toEqual([id('a', 1), id('b', 2)]);
    expect(cuts(actions)).toEqual([[id('a', 1), 1, 4, 3]]);
    const cut = actions.find((a) => a.type === 'cut')!.batch;
    expect(cut.tokenBefore).toEqual(tok(0));
    expect(cut.token).toEqual(tok(4));
    expect(c.bufferedEvents).toBe(2); // b@2 holds seqs 2 and 5
  });

  it('never lets a batch span two hour partitions', () => {
    const c = new BatchCutter({ ...opts, batchSize: 100 }, G);
    const actions = [ev(1, 'a', HOUR + 3598), ev(2, 'a', HOUR + 3599), ev(3, 'a', HOUR + 3600)].flatMap((e) => c.push(e));
    expect(cuts(actions)).toEqual([[id('a', 1), 1, 2, 2]]);
    expect(actions.at(-1)).toMatchObject({ type: 'open', batch: { id: id('a', 3), partition: new Date((HOUR + 3600) * 1000).toISOString().slice(0, 13) } });
  });

  it('cuts before the byte cap would be exceeded', () => {
    const c = new BatchCutter({ ...opts, batchSize: 100, maxBytes: 250 }, G);
    const actions = [ev(1, 'a', undefined, 100), ev(2, 'a', undefined, 100), ev(3, 'a', undefined, 100)].flatMap((e) => c.push(e));
    expect(cuts(actions)).toEqual([[id('a', 1), 1, 2, 2]]);
  });

  it('cuts on BATCH_TIMEOUT_MS of cluster time, seen on any later event or an idle position, never on the wall clock', () => {
    const c = new BatchCutter({ ...opts, batchSize: 100, timeoutMs: 2000 }, G);
    c.push(ev(1, 'a', HOUR + 10));
    c.push(ev(2, 'b', HOUR + 11));
    expect(c.due(HOUR + 11)).toEqual([]);
    // An event of another namespace two seconds later: a's batch is due, and cut before it joins.
    const at12 = c.push(ev(3, 'b', HOUR + 12));
    expect(cuts(at12)).toEqual([[id('a', 1), 1, 1, 1]]);
    // b's batch is due at HOUR + 13: an idle position there cuts it.
    expect(cuts(c.due(HOUR + 13))).toEqual([[id('b', 2), 2, 3, 2]]);
  });

  it('cuts the same events at the same places however the stream is read (idle positions or none)', () => {
    const run = (idles: boolean) => {
      const c = new BatchCutter({ ...opts, batchSize: 4, timeoutMs: 3000, maxBytes: 450 }, G);
      const out: CutterAction[] = [];
      let sec = HOUR;
      for (let s = 1; s <= 40; s++) {
        sec += s % 7 === 0 ? 5 : s % 3; // bursts and pauses
        if (idles) out.push(...c.due(sec - 1)); // a reader that saw an idle position just before
        out.push(...c.push(ev(s, s % 5 === 0 ? null : s % 2 ? 'a' : 'b', sec, 60 + (s % 4) * 40)));
      }
      return cuts(out);
    };
    expect(run(true)).toEqual(run(false));
    expect(run(false).length).toBeGreaterThan(8);
  });

  it('weighs an update by its line without its looked-up document (a replay may see another version)', () => {
    const envelope = { operation: 'update', full_document: '{"_id":1,"big":"' + 'x'.repeat(500) + '"}' } as ChangeEnvelope;
    const line = JSON.stringify({ ...envelope, seq: 1 }) + '\n';
    expect(cutSize(envelope, line)).toBe(line.length - envelope.full_document!.length);
    const insert = { ...envelope, operation: 'insert' } as ChangeEnvelope;
    expect(cutSize(insert, line)).toBe(line.length);
  });

  it('groups by namespace: a database-level event (no collection) gets a batch of its own database', () => {
    const c = new BatchCutter(opts, G);
    const actions = [ev(1, 'a'), ev(2, null)].flatMap((e) => c.push(e));
    expect(actions.filter((a) => a.type === 'open').map((a) => [a.batch.id, a.batch.namespace, a.batch.collection])).toEqual([
      [id('a', 1), 'shop.a', 'a'],
      [`${G}:shop@2`, 'shop', null],
    ]);
  });

  it('on replay: skips stored batches, rebuilds cut ones exactly (never by timeout), cuts the rest afresh', () => {
    const records: BatchRecord[] = [
      { id: id('a', 1), database: 'shop', collection: 'a', seqStart: 1, seqEnd: 5, state: 'done', tokenBefore: tok(0) },
      { id: id('b', 2), database: 'shop', collection: 'b', seqStart: 2, seqEnd: 6, state: 'cut', tokenBefore: tok(1), token: tok(6) },
      { id: id('a', 7), database: 'shop', collection: 'a', seqStart: 7, seqEnd: 7, state: 'cut', tokenBefore: tok(6), token: tok(7) }, // a timeout cut
      { id: id('b', 8), database: 'shop', collection: 'b', seqStart: 8, seqEnd: 8, state: 'open', tokenBefore: tok(7) },
    ];
    const c = new BatchCutter({ ...opts, batchSize: 100, timeoutMs: 1000 }, G, records);
    const seqs: [number, string][] = [[1, 'a'], [2, 'b'], [3, 'a'], [4, 'b'], [5, 'a'], [6, 'b'], [7, 'a'], [8, 'b'], [9, 'a']];
    const actions: CutterAction[] = [];
    for (const [s, coll] of seqs) {
      actions.push(...c.push(ev(s, coll, HOUR)));
      actions.push(...c.due(HOUR + 10)); // timeouts never cut a replayed batch early
    }
    const cut = actions.filter((a) => a.type === 'cut').map((a) => a.batch);
    expect(cut.map((b) => [b.id, b.seqStart, b.seqEnd, b.lines.map((l) => (JSON.parse(l) as { seq: number }).seq), b.replayed])).toEqual([
      [id('b', 2), 2, 6, [2, 4, 6], true],
      [id('a', 7), 7, 7, [7], true],
      [id('b', 8), 8, 8, [8], false], // the open record is not trusted: re-cut by the normal rules (timeout here)
      [id('a', 9), 9, 9, [9], false],
    ]);
    expect(cut[0].tokenBefore).toEqual(tok(1));
    expect(actions.filter((a) => a.type === 'open').map((a) => a.batch.id)).toEqual([id('b', 8), id('a', 9)]);
  });

  it('on replay, a fresh batch still open where a recorded batch begins is cut there, never dropped', () => {
    // Redis kept the cut record of 5..6 but not the one of 1..4 (lost, or only opened).
    const records: BatchRecord[] = [{ id: id('a', 5), database: 'shop', collection: 'a', seqStart: 5, seqEnd: 6, state: 'cut', tokenBefore: tok(4), token: tok(6) }];
    const c = new BatchCutter({ ...opts, batchSize: 100 }, G, records);
    const actions = [1, 2, 3, 4, 5, 6, 7].flatMap((s) => c.push(ev(s, 'a', HOUR)));
    expect(cuts(actions)).toEqual([
      [id('a', 1), 1, 4, 4],
      [id('a', 5), 5, 6, 2],
    ]);
    expect(c.bufferedEvents).toBe(1); // 7 opened a new batch
  });
});
