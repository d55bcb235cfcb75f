import { Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId } from 'bson';
import { compareValues, valueKey } from './bson-values';
import { compileFilter } from './query-matcher';

describe('query matcher and BSON order', () => {
  const m = (filter: object, doc: object) => compileFilter(filter as never)(doc as never);

  it('equal numbers of different types are equal (and one _id key)', () => {
    expect(m({ a: 1 }, { a: new Double(1) })).toBe(true);
    expect(m({ a: Long.fromNumber(1) }, { a: new Int32(1) })).toBe(true);
    expect(m({ a: Decimal128.fromString('1.0') }, { a: 1 })).toBe(true);
    expect(valueKey(new Int32(7))).toBe(valueKey(new Double(7)));
    expect(valueKey(Long.fromString('9007199254740993'))).not.toBe(valueKey(Long.fromString('9007199254740992')));
  });

  it('comparisons stay within a type bracket', () => {
    expect(m({ a: { $gt: 5 } }, { a: 'z' })).toBe(false);
    expect(m({ a: { $lt: 'b' } }, { a: 'a' })).toBe(true);
    expect(m({ a: { $gt: new MinKey() } }, { a: 'anything' })).toBe(true);
  });

  it('arrays match by any element or as a whole', () => {
    expect(m({ tags: 'b' }, { tags: ['a', 'b'] })).toBe(true);
    expect(m({ tags: ['a', 'b'] }, { tags: ['a', 'b'] })).toBe(true);
    expect(m({ n: { $gt: 5 } }, { n: [1, 10] })).toBe(true);
    expect(m({ 'xs.k': 2 }, { xs: [{ k: 1 }, { k: 2 }] })).toBe(true);
    expect(m({ tags: { $size: 2 } }, { tags: ['a', 'b'] })).toBe(true);
    expect(m({ xs: { $elemMatch: { k: 2, j: 1 } } }, { xs: [{ k: 2, j: 0 }, { k: 2, j: 1 }] })).toBe(true);
  });

  it('null matches a missing field; $exists and $ne', () => {
    expect(m({ a: null }, {})).toBe(true);
    expect(m({ a: { $exists: false } }, {})).toBe(true);
    expect(m({ a: { $exists: true } }, { a: null })).toBe(true);
    expect(m({ a: { $ne: 1 } }, {})).toBe(true);
    expect(m({ a: { $nin: [1, 2] } }, { a: 3 })).toBe(true);
  });

  it('$and, $or, $nor, $not, $regex, $type', () => {
    expect(m({ $or: [{ a: 1 }, { b: 2 }], $nor: [{ c: 3 }] }, { b: 2 })).toBe(true);
    expect(m({ s: { $regex: '^ab', $options: 'i' } }, { s: 'ABc' })).toBe(true);
    expect(m({ s: { $not: /^ab/ } }, { s: 'xab' })).toBe(true);
    expect(m({ a: { $type: 'double' } }, { a: new Double(1) })).toBe(true);
    expect(m({ a: { $type: 'int' } }, { a: new Double(1) })).toBe(false);
    expect(() => m({ $where: 'x' }, {})).toThrow(expect.objectContaining({ code: 2 }));
  });

  it('orders values by BSON type first: MinKey < null < numbers < strings < objects < arrays < binData < ObjectId < bool < date < MaxKey', () => {
    const values = [new MaxKey(), new Date(0), true, new ObjectId(), [1], { a: 1 }, 'a', 1, null, new MinKey()];
    const sorted = [...values].sort(compareValues);
    expect(sorted).toEqual([...values].reverse());
  });
});
