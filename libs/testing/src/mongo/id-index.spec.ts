import { compareValues } from './bson-values';
import { IdIndex } from './id-index';
import { IdScan } from './index-scan';

describe('IdIndex', () => {
  it('stays sorted and seekable through many inserts and deletes (blocks split and empty)', () => {
    const ix = new IdIndex();
    const ref: number[] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let step = 0; step < 6000; step++) {
      const v = Math.floor(rand() * 3000);
      const at = ref.indexOf(v);
      if (at >= 0 && rand() < 0.4) {
        expect(ix.delete(v)).toBe(true);
        ref.splice(at, 1);
      } else if (at < 0) {
        ix.insert(v, String(v));
        ref.push(v);
      }
    }
    ref.sort((a, b) => a - b);
    expect([...ix.entries()].map((e) => e.id)).toEqual(ref);
    expect(ix.size).toBe(ref.length);
    for (const probe of [-1, 0, 17, 1500, 2999, 3000]) {
      const got = ix.at(ix.seek({ value: probe, side: 'before' }))?.id;
      expect(got).toBe(ref.find((x) => compareValues(x, probe) >= 0));
      const after = ix.at(ix.seek({ value: probe, side: 'after' }))?.id;
      expect(after).toBe(ref.find((x) => x > probe));
    }
    const scan = new IdScan(ix, [{ value: 100, side: 'before' }], [{ value: 2000, side: 'before' }], -1);
    const back: unknown[] = [];
    for (let e = scan.next(); e; e = scan.next()) back.push(e.id);
    expect(back).toEqual(ref.filter((x) => x >= 100 && x < 2000).reverse());
  });
});
