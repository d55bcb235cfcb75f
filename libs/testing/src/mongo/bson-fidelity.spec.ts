import { Binary, BSONRegExp, BSONSymbol, Code, Decimal128, type Document, Double, Int32, Long, MaxKey, MinKey, MongoClient, ObjectId, Timestamp, UUID } from 'mongodb';
import { type StandInWithDriver, startWithDriver, stopWithDriver } from './driver-fixture';

/** Every BSON type written through the real driver comes back with its type, by find and in change events. */
describe('MongoStandIn BSON fidelity and size rules (real driver)', () => {
  let s: StandInWithDriver;
  let client: MongoClient;

  beforeAll(async () => ({ client } = s = await startWithDriver()));
  afterAll(() => stopWithDriver(s));

  const oid = new ObjectId('65a1b2c3d4e5f60718293a4b');
  const sample = (): Document => ({
    _id: oid,
    double: new Double(5),
    doubleFraction: new Double(2.5),
    int32: new Int32(5),
    int64: Long.fromString('9007199254740993'),
    decimal: Decimal128.fromString('1.10'),
    date: new Date('2026-11-21T22:15:00.123Z'),
    objectId: new ObjectId('0123456789abcdef01234567'),
    binGeneric: new Binary(Buffer.from([1, 2, 3]), 0),
    binFunction: new Binary(Buffer.from([4]), 1),
    binUuid: new UUID('0e2a0b6c-4d5e-4f60-8a9b-0c1d2e3f4a5b'),
    binMd5: new Binary(Buffer.alloc(16, 7), 5),
    binEncrypted: new Binary(Buffer.from([9, 9]), 6),
    binColumn: new Binary(Buffer.from([1]), 7),
    binSensitive: new Binary(Buffer.from([2]), 8),
    binUser: new Binary(Buffer.from([0xff]), 0x80),
    timestamp: new Timestamp({ t: 1_800_000_000, i: 7 }),
    minKey: new MinKey(),
    maxKey: new MaxKey(),
    regex: new BSONRegExp('^a.c$', 'im'),
    nested: { arr: [[new Int32(1), new Double(1)], [], [{ deep: Long.fromNumber(2) }]], empty: {} },
    string: 'héllo ✓',
    bool: false,
    nul: null,
    symbol: new BSONSymbol('sym'),
    code: new Code('function () { return 1; }'),
  });

  function expectSameTypes(got: Document, want: Document): void {
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const k of Object.keys(want)) {
      const w = want[k];
      const g = got[k];
      if (w instanceof Binary) {
        expect(g).toBeInstanceOf(Binary);
        expect((g as Binary).sub_type).toBe(w.sub_type);
        expect(Buffer.from((g as Binary).value()).equals(Buffer.from(w.value()))).toBe(true);
      } else if (w !== null && typeof w === 'object' && '_bsontype' in w) {
        expect((g as { _bsontype: string })._bsontype).toBe((w as { _bsontype: string })._bsontype);
        expect(String(g)).toBe(String(w));
      } else if (w !== null && typeof w === 'object' && !(w instanceof Date)) {
        expect(JSON.stringify(g)).toBe(JSON.stringify(w));
      } else {
        expect(g).toEqual(w);
      }
    }
  }

  it('find returns every type exactly as inserted (promoteValues: false)', async () => {
    const c = client.db('fidelity').collection('types');
    const doc = sample();
    await c.insertOne(doc);
    const got = await c.findOne({ _id: oid }, { promoteValues: false, bsonRegExp: true });
    expectSameTypes(got!, doc);
    expect(got!['double']).toBeInstanceOf(Double);
    expect((got!['double'] as Double).value).toBe(5);
    expect(got!['int32']).toBeInstanceOf(Int32);
    expect((got!['nested'] as Document)['arr'][0][1]).toBeInstanceOf(Double);
    expect((got!['nested'] as Document)['arr'][2][0]['deep']).toBeInstanceOf(Long);
  });

  it('a double 5.0 stays a double through updates ($inc keeps int32 an int32, double a double)', async () => {
    const c = client.db('fidelity').collection('inc');
    await c.insertOne({ _id: 1 as never, d: new Double(5), i: new Int32(5), l: Long.fromNumber(5) });
    await c.updateOne({ _id: 1 as never }, { $inc: { d: new Int32(1), i: new Int32(1), l: new Int32(1) } } as never);
    const got = (await c.findOne({ _id: 1 as never }, { promoteValues: false }))!;
    expect(got['d']).toBeInstanceOf(Double);
    expect((got['d'] as Double).value).toBe(6);
    expect(got['i']).toBeInstanceOf(Int32);
    expect(got['l']).toBeInstanceOf(Long);
    await c.updateOne({ _id: 1 as never }, { $inc: { i: new Int32(2 ** 31 - 1) } } as never);
    expect((await c.findOne({ _id: 1 as never }, { promoteValues: false }))!['i']).toBeInstanceOf(Long);
  });

  it('change events carry the documents with their exact types', async () => {
    const c = client.db('fidelity').collection('events');
    const cs = c.watch([], { maxAwaitTimeMS: 100, promoteValues: false, bsonRegExp: true } as never);
    await cs.tryNext();
    const doc = sample();
    await c.insertOne(doc);
    const ev = (await cs.next()) as Document;
    expectSameTypes(ev['fullDocument'], doc);
    await cs.close();
  });

  it('refuses a document above 16 MiB on insert, as a 7.0 server does (2 BadValue "object to insert too large")', async () => {
    const c = client.db('fidelity').collection('big');
    const big = { _id: 'big', s: 'x'.repeat(16 * 1024 * 1024) };
    const err = await c.insertOne(big as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as Error).message).toMatch(/^object to insert too large\. size in bytes: 167772\d\d, max size: 16777216$/);
    // Just below the limit is fine.
    const fits = { _id: 'fits', s: 'x'.repeat(16 * 1024 * 1024 - 100) };
    await c.insertOne(fits as never);
    expect(await c.countDocuments({ _id: 'fits' as never })).toBe(1);
  });

  it('refuses an update whose result is above 16 MiB (17419)', async () => {
    const c = client.db('fidelity').collection('growing');
    await c.insertOne({ _id: 1 as never, s: 'x'.repeat(9 * 1024 * 1024) });
    const err = await c.updateOne({ _id: 1 as never }, { $set: { t: 'y'.repeat(8 * 1024 * 1024) } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 17419 });
    expect((err as Error).message).toBe('Resulting document after update is larger than 16777216');
    expect(((await c.findOne({ _id: 1 as never }))!['t'] as string | undefined)).toBeUndefined();
  });
});
