import { Int32, Long } from 'bson';
import { ChunkWindow } from './chunk-window';

describe('ChunkWindow', () => {
  it('drops the rows of keys changed inside the window, keeps the rest in read order', () => {
    const w = new ChunkWindow([{ _id: 1 }, { _id: 2 }, { _id: 3 }, { _id: 4 }]);
    w.changed({ _id: 3 });
    w.changed({ _id: 99 }); // not in the chunk: nothing to drop
    w.changed({ _id: 1 });
    w.changed({ _id: 1 }); // twice: once dropped
    expect(w.rows.map((r) => r._id)).toEqual([2, 4]);
    expect(w.dropped).toBe(2);
  });

  it('matches keys by BSON type as well as value: an int64 1 is not the int32 1', () => {
    const w = new ChunkWindow([{ _id: new Int32(1) }, { _id: Long.fromNumber(1) }]);
    w.changed({ _id: Long.fromNumber(1) });
    expect(w.rows.map((r) => r._id)).toEqual([new Int32(1)]);
  });

  it('ignores events without a document key (DDL, drops)', () => {
    const w = new ChunkWindow([{ _id: 'a' }]);
    w.changed(undefined);
    w.changed({});
    expect(w.rows).toHaveLength(1);
  });
});
