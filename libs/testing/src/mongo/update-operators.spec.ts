import { Double, Int32, Long, Timestamp } from 'bson';
import { applyOperators, applyReplacement, upsertDocument } from './update-operators';

const ctx = { inserting: false, now: () => ({ date: new Date(0), timestamp: new Timestamp({ t: 1, i: 1 }) }) };

describe('update operators', () => {
  it('report the paths they set as the oplog diff does', () => {
    const before = { _id: 1, a: { b: 1, c: 2 }, tags: ['x'], n: new Int32(1) };
    const r = applyOperators(before, { $set: { 'a.b': new Int32(5), 'd.e': 'new' }, $unset: { 'a.c': 1, missing: 1 }, $inc: { n: new Int32(1) }, $push: { tags: 'y' } }, ctx);
    expect(r.changed).toBe(true);
    expect(r.description).toEqual({ updatedFields: { 'a.b': new Int32(5), d: { e: 'new' }, n: new Int32(2), 'tags.1': 'y' }, removedFields: ['a.c'], truncatedArrays: [] });
    // The stored document is not touched.
    expect(before).toEqual({ _id: 1, a: { b: 1, c: 2 }, tags: ['x'], n: new Int32(1) });
  });

  it('a field set to the value it has is no change at all (no event)', () => {
    const r = applyOperators({ _id: 1, a: new Int32(1) }, { $set: { a: new Int32(1) } }, ctx);
    expect(r.changed).toBe(false);
  });

  it('a different numeric type is a change (5 int32 → 5.0 double)', () => {
    const r = applyOperators({ _id: 1, a: new Int32(5) }, { $set: { a: new Double(5) } }, ctx);
    expect(r.changed).toBe(true);
    expect(r.doc['a']).toBeInstanceOf(Double);
  });

  it('$inc keeps the numeric type and widens int32 overflow to int64', () => {
    const r = applyOperators({ _id: 1, i: new Int32(2 ** 31 - 1), d: new Double(1.5), l: Long.fromNumber(1) }, { $inc: { i: new Int32(1), d: new Int32(1), l: new Int32(1), fresh: new Int32(3) } }, ctx);
    expect(r.doc['i']).toEqual(Long.fromNumber(2 ** 31));
    expect(r.doc['d']).toEqual(new Double(2.5));
    expect(r.doc['l']).toEqual(Long.fromNumber(2));
    expect(r.doc['fresh']).toEqual(new Int32(3));
  });

  it('$pop from the end reports a truncated array', () => {
    const r = applyOperators({ _id: 1, a: [1, 2, 3] }, { $pop: { a: 1 } }, ctx);
    expect(r.description.truncatedArrays).toEqual([{ field: 'a', newSize: new Int32(2) }]);
    expect(r.doc['a']).toEqual([1, 2]);
  });

  it('$addToSet, $pull, $rename, $min/$max', () => {
    const r = applyOperators({ _id: 1, s: [1, 2], p: [1, 2, 3, 2], old: 'v', lo: 5, hi: 5 }, { $addToSet: { s: { $each: [2, 3] } }, $pull: { p: 2 }, $rename: { old: 'renamed' }, $min: { lo: 3 }, $max: { hi: 4 } }, ctx);
    expect(r.doc).toEqual({ _id: 1, s: [1, 2, 3], p: [1, 3], lo: 3, hi: 5, renamed: 'v' });
    expect(r.description.removedFields).toEqual(['old']);
  });

  it('refuses conflicting paths, unknown operators, and changing _id', () => {
    expect(() => applyOperators({ _id: 1 }, { $set: { a: 1, 'a.b': 2 } }, ctx)).toThrow(expect.objectContaining({ code: 40 }));
    expect(() => applyOperators({ _id: 1 }, { $frob: { a: 1 } }, ctx)).toThrow(expect.objectContaining({ code: 9 }));
    expect(() => applyOperators({ _id: 1 }, { $set: { _id: 2 } }, ctx)).toThrow(expect.objectContaining({ code: 66 }));
    expect(() => applyOperators({ _id: 1, s: 'x' }, { $inc: { s: 1 } }, ctx)).toThrow(expect.objectContaining({ code: 14 }));
    expect(() => applyOperators({ _id: 1, s: 'x' }, { $set: { 's.t': 1 } }, ctx)).toThrow(expect.objectContaining({ code: 28 }));
  });

  it('replacement keeps _id first and refuses another _id', () => {
    expect(applyReplacement({ _id: 1, a: 1 }, { b: 2, _id: 1 }).doc).toEqual({ _id: 1, b: 2 });
    expect(Object.keys(applyReplacement({ _id: 1, a: 1 }, { b: 2, _id: 1 }).doc)).toEqual(['_id', 'b']);
    expect(() => applyReplacement({ _id: 1 }, { _id: 2 })).toThrow(expect.objectContaining({ code: 66 }));
  });

  it('an upsert starts from the equality fields of the filter, with $setOnInsert', () => {
    expect(upsertDocument({ _id: 5, k: 'x', n: { $gt: 1 } }, { $set: { v: 1 }, $setOnInsert: { created: true } }, ctx)).toEqual({ _id: 5, k: 'x', v: 1, created: true });
    expect(upsertDocument({ 'a.b': 1 }, { $inc: { c: 1 } }, ctx)).toMatchObject({ a: { b: 1 }, c: 1 });
  });
});
