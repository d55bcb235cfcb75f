import { toEnvelope } from '../change-envelope-mapper';
import { positionOf, SyntheticSource, syntheticToken } from './synthetic-source';

const opts = { database: 'shop', collections: ['orders', 'users', 'carts'], rate: 0, count: 50, documentBytes: 1024, startSeconds: 1_795_000_000, eventsPerClusterSecond: 10, idleIntervalMs: 10 };

async function take(source: SyntheticSource, n: number, from?: ReturnType<typeof syntheticToken>) {
  const ac = new AbortController();
  const items = [];
  for await (const item of source.read(from ? { token: from } : undefined, ac.signal)) {
    items.push(item);
    if (items.length === n) break;
  }
  ac.abort();
  return items;
}

describe('SyntheticSource', () => {
  it('is deterministic and resumes exactly after a token', async () => {
    const a = await take(new SyntheticSource(opts), 21);
    expect(a[0]).toEqual({ type: 'idle', token: syntheticToken(0, true), clusterTime: '1795000000.0' }); // the position before event 1
    const b = await take(new SyntheticSource(opts), 10, syntheticToken(10));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a.slice(11)));
  });

  it('spreads events over the collections with realistic operations and ~1 KB documents', async () => {
    const items = (await take(new SyntheticSource({ ...opts, count: 0 }), 301)).slice(1);
    const envelopes = items.map((it, i) => (it.type === 'change' ? toEnvelope(it.change, 'shop', 1, i + 1) : undefined)!);
    expect(new Set(envelopes.map((e) => e.collection))).toEqual(new Set(['orders', 'users', 'carts']));
    expect(new Set(envelopes.map((e) => e.operation))).toEqual(new Set(['insert', 'update', 'replace', 'delete']));
    const insert = envelopes.find((e) => e.operation === 'insert')!;
    expect(insert.full_document!.length).toBeGreaterThan(950);
    expect(insert.full_document!.length).toBeLessThan(1200);
    expect(insert.full_document).toContain('"$oid"');
    expect(insert.full_document).toContain('"$numberLong"');
    expect(envelopes[0].cluster_time).toBe('1795000000.1');
    expect(envelopes[10].cluster_time).toBe('1795000001.1');
  });

  it('goes idle after count, with an idle token that resumes after the last event', async () => {
    const items = (await take(new SyntheticSource(opts), 53)).slice(1);
    expect(items.slice(0, 50).every((i) => i.type === 'change')).toBe(true);
    expect(items[50]).toMatchObject({ type: 'idle', token: syntheticToken(50, true), clusterTime: '1795000004.11' });
    expect(positionOf(syntheticToken(50, true))).toBe(50);
    expect(await take(new SyntheticSource(opts), 1, syntheticToken(50, true))).toMatchObject([{ type: 'idle', token: syntheticToken(50, true) }]);
  });
});
