import { EJSON } from 'bson';
import { Binary, BSONRegExp, BSONSymbol, Code, type Collection, Decimal128, type Document, Double, Int32, Long, MaxKey, MinKey, MongoClient, ObjectId, Timestamp } from 'mongodb';
import { type StandInWithDriver, startWithDriver, stopWithDriver } from './driver-fixture';
import type { MongoStandIn } from './mongo-stand-in';

/**
 * The reads an initial snapshot makes, through the real driver: the `_id` index in BSON order
 * across types, `hint`/`min`/`max` chunking with the server's errors, and the counts a progress
 * estimate uses.
 */
describe('MongoStandIn snapshot reads (real driver)', () => {
  let s: StandInWithDriver;
  let m: MongoStandIn;
  let client: MongoClient;
  let n = 0;
  const fresh = (): Collection<any> => client.db('snap').collection(`c${++n}`);
  const raw = { promoteValues: false, promoteLongs: false } as const;
  /** A value's identity across the wire: canonical extended JSON keeps every BSON type. */
  const ej = (v: unknown) => EJSON.stringify({ v }, { relaxed: false });

  beforeAll(async () => ({ m, client } = s = await startWithDriver()));
  afterAll(() => stopWithDriver(s));

  /** `_id`s in the order MongoDB's `_id` index holds them (bson-type-comparison-order). */
  const ordered: [string, unknown][] = [
    ['minKey', new MinKey()],
    ['null', null],
    ['NaN', new Double(Number.NaN)],
    ['-Infinity', new Double(Number.NEGATIVE_INFINITY)],
    ['long -2^62', Long.fromBigInt(-(2n ** 62n))],
    ['int -1', new Int32(-1)],
    ['int 0', new Int32(0)],
    ['decimal 0.1', Decimal128.fromString('0.1')], // the decimal 0.1 is below the double 0.1000000000000000055…
    ['double 0.1', new Double(0.1)],
    ['int 1', new Int32(1)],
    ['decimal 1.0…01', Decimal128.fromString('1.0000000000000000000000000000001')],
    ['double 2^53', new Double(2 ** 53)],
    ['long 2^53+1', Long.fromBigInt(2n ** 53n + 1n)],
    ['decimal 1E+400', Decimal128.fromString('1E+400')],
    ['Infinity', new Double(Number.POSITIVE_INFINITY)],
    ['string ""', ''],
    ['string Z', 'Z'],
    ['symbol a', new BSONSymbol('a')],
    ['string b', 'b'],
    ['string \\uffff', '\uffff'], // UTF-8 EF BF BF: below any 4-byte sequence (UTF-16 order would put it after)
    ['string 😀', '😀'],
    ['object {a:1,b:x}', { a: 1, b: 'x' }],
    ['object {a:1,b:y}', { a: 1, b: 'y' }],
    ['object {b:1}', { b: 1 }], // field by field: the value's type first (number < string), then the name
    ['object {a:x}', { a: 'x' }],
    ['binary [9]', new Binary(Buffer.from([9]))], // shorter first…
    ['binary [1 2] subtype 0', new Binary(Buffer.from([1, 2]))],
    ['binary [0 0] subtype 5', new Binary(Buffer.from([0, 0]), 5)], // …then the subtype, then the bytes
    ['objectId 00…', new ObjectId('000000000000000000000000')],
    ['objectId ff…', new ObjectId('ffffffffffffffffffffffff')],
    ['false', false],
    ['true', true],
    ['date -1s', new Date(-1000)], // signed: before the epoch first
    ['date 0', new Date(0)],
    ['timestamp 1', new Timestamp({ t: 1, i: 0 })],
    ['timestamp 2^32-1', new Timestamp({ t: 0xffffffff, i: 0 })], // unsigned
    ['maxKey', new MaxKey()],
  ];

  async function seedOrdered(): Promise<Collection<any>> {
    const c = fresh();
    // Inserted in a scrambled order so nothing depends on insertion order.
    const docs = ordered.map(([label, id]) => ({ _id: id, label }));
    // Through the insert command: the driver's insertOne replaces a null _id with a new ObjectId.
    for (let i = 0; i < docs.length; i++) await client.db('snap').command({ insert: c.collectionName, documents: [docs[(i * 17) % docs.length]] });
    return c;
  }

  describe('BSON comparison order', () => {
    it('sorts mixed _id types exactly as the _id index does, both ways, with hint or sort', async () => {
      const c = await seedOrdered();
      const labels = ordered.map(([l]) => l);
      expect((await c.find().sort({ _id: 1 }).toArray()).map((d) => d['label'])).toEqual(labels);
      expect((await c.find().sort({ _id: -1 }).toArray()).map((d) => d['label'])).toEqual([...labels].reverse());
      expect((await c.find({}, { hint: { _id: 1 } }).toArray()).map((d) => d['label'])).toEqual(labels);
      expect((await c.find({}, { hint: '_id_' }).toArray()).map((d) => d['label'])).toEqual(labels);
      // The same order for a sort on another field.
      const byField = fresh();
      await byField.insertMany(ordered.map(([label, id], i) => ({ _id: i, k: id, label })).reverse());
      expect((await byField.find().sort({ k: 1 }).toArray()).map((d) => d['label'])).toEqual(labels);
      // The types an _id cannot hold, in a field: timestamp < regex < code < code with scope < maxKey.
      const tail = fresh();
      await tail.insertMany([
        { _id: 1, k: new MaxKey(), label: 'maxKey' },
        { _id: 2, k: new Code('b', { s: 1 }), label: 'code b with scope' },
        { _id: 3, k: new Code('b'), label: 'code b' },
        { _id: 4, k: new BSONRegExp('b', 'i'), label: 'regex /b/i' },
        { _id: 5, k: new BSONRegExp('a', 'm'), label: 'regex /a/m' },
        { _id: 6, k: new Code('a', { s: 2 }), label: 'code a with scope' },
        { _id: 7, k: new Timestamp({ t: 5, i: 1 }), label: 'timestamp' },
      ]);
      expect((await tail.find().sort({ k: 1 }).toArray()).map((d) => d['label'])).toEqual(['timestamp', 'regex /a/m', 'regex /b/i', 'code b', 'code a with scope', 'code b with scope', 'maxKey']);
    });

    it('returns each _id with its exact BSON type', async () => {
      const c = await seedOrdered();
      const got = await c.find({}, raw).sort({ _id: 1 }).toArray();
      expect(got.map((d) => ej(d._id))).toEqual(ordered.map(([, id]) => ej(id)));
    });

    it('keys the _id index by numeric value: 1, 1.0, NumberLong(1) and NumberDecimal("1.00") are one key; -0 is 0; a decimal one ulp above 1 is another', async () => {
      const c = fresh();
      await c.insertOne({ _id: new Int32(1) });
      for (const dup of [new Double(1), Long.fromNumber(1), Decimal128.fromString('1.00')]) await expect(c.insertOne({ _id: dup })).rejects.toMatchObject({ code: 11000 });
      await c.insertOne({ _id: new Int32(0) });
      await expect(c.insertOne({ _id: new Double(-0) })).rejects.toMatchObject({ code: 11000 });
      await c.insertOne({ _id: Decimal128.fromString('1.0000000000000000000000000000001') });
      await c.insertOne({ _id: new Double(0.1) });
      await c.insertOne({ _id: Decimal128.fromString('0.1') });
      await c.insertOne({ _id: Long.fromBigInt(2n ** 53n + 1n) });
      await c.insertOne({ _id: new Double(2 ** 53) });
      await c.insertOne({ _id: Decimal128.fromString('1E+400') });
      await c.insertOne({ _id: new Double(Number.POSITIVE_INFINITY) });
      await c.insertOne({ _id: new Double(Number.NaN) });
      await expect(c.insertOne({ _id: Decimal128.fromString('NaN') })).rejects.toMatchObject({ code: 11000 });
      expect(await c.countDocuments()).toBe(10);
      expect(ej((await c.findOne({ _id: Decimal128.fromString('0.1') }, raw))?._id)).toBe(ej(Decimal128.fromString('0.1')));
    });
  });

  describe('find with hint, min and max', () => {
    let c: Collection<any>;
    const ids = [1, 2, 3, 4, 5, 6, 7, 'a', 'b', 'c', new Date(5)];

    beforeAll(async () => {
      c = fresh();
      await c.insertMany(ids.map((id) => ({ _id: id as never })));
    });

    const got = async (filter: Document, options: Document) => (await c.find(filter, options).toArray()).map((d) => d._id);

    it('min is inclusive and max exclusive, in BSON order across type brackets', async () => {
      expect(await got({}, { hint: { _id: 1 }, min: { _id: 5 }, max: { _id: 'b' } })).toEqual([5, 6, 7, 'a']);
      expect(await got({}, { hint: '_id_', min: { _id: 'a' } })).toEqual(['a', 'b', 'c', new Date(5)]);
      expect(await got({}, { hint: { _id: 1 }, max: { _id: 3 } })).toEqual([1, 2]);
      expect(await got({}, { hint: { _id: 1 }, min: { _id: new MinKey() }, max: { _id: new MaxKey() } })).toEqual(ids);
      expect(await got({}, { hint: { _id: 1 }, min: { _id: 5 }, max: { _id: 'b' }, sort: { _id: -1 } })).toEqual(['a', 7, 6, 5]);
      // A bound between values, and the filter still applies within the bounds.
      expect(await got({}, { hint: { _id: 1 }, min: { _id: 4.5 }, limit: 3 })).toEqual([5, 6, 7]);
      expect(await got({ _id: { $type: 'string' } }, { hint: { _id: 1 }, min: { _id: 2 } })).toEqual(['a', 'b', 'c']);
    });

    it('answers the server errors: 51173 without a hint, 51174 for bounds not on the index key, 51175 for min not before max, 2 for an unknown index', async () => {
      await expect(got({}, { min: { _id: 1 } })).rejects.toMatchObject({ code: 51173, message: expect.stringMatching(/When using min\(\)\/max\(\) a hint of which index to use must be provided/) });
      await expect(got({}, { max: { _id: 1 } })).rejects.toMatchObject({ code: 51173 });
      await expect(got({}, { hint: { _id: 1 }, min: { x: 1 } })).rejects.toMatchObject({ code: 51174, message: expect.stringMatching(/The index chosen is not compatible with min\/max/) });
      await expect(got({}, { hint: { _id: 1 }, max: { _id: 1, x: 1 } })).rejects.toMatchObject({ code: 51174 });
      await expect(got({}, { hint: { _id: 1 }, min: { _id: 'b' }, max: { _id: 5 } })).rejects.toMatchObject({ code: 51175 });
      await expect(got({}, { hint: { _id: 1 }, min: { _id: 5 }, max: { _id: 5 } })).rejects.toMatchObject({ code: 51175 });
      await expect(got({}, { hint: { nope: 1 } })).rejects.toMatchObject({ code: 2, message: expect.stringMatching(/hint provided does not correspond to an existing index/) });
      await expect(got({}, { hint: 'nope_1' })).rejects.toMatchObject({ code: 2 });
    });

    it('min/max on a hinted secondary index bound its key order', async () => {
      const s = fresh();
      await s.insertMany([{ _id: 1, k: 'c' }, { _id: 2, k: 'a' }, { _id: 3, k: 5 }, { _id: 4, k: 'b' }]);
      await s.createIndex({ k: 1 });
      expect((await s.find({}, { hint: { k: 1 }, min: { k: 'a' }, max: { k: 'c' } }).toArray()).map((d) => d._id)).toEqual([2, 4]);
      await expect(s.find({}, { hint: { k: 1 }, min: { _id: 1 } }).toArray()).rejects.toMatchObject({ code: 51174 });
    });

    it('limit, batchSize and getMore walk the bounded scan', async () => {
      const big = fresh();
      await big.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i })));
      const before = m.count('getMore');
      const docs = await big.find({}, { hint: { _id: 1 }, sort: { _id: 1 }, min: { _id: 10 }, limit: 23, batchSize: 5 }).toArray();
      expect(docs.map((d) => d._id)).toEqual(Array.from({ length: 23 }, (_, i) => i + 10));
      expect(m.count('getMore') - before).toBeGreaterThanOrEqual(4);
    });

    it('$gt/$gte/$lt/$lte on _id keep type bracketing; MinKey and MaxKey bound every type; NaN only equals NaN', async () => {
      expect(await got({ _id: { $gt: 5 } }, { sort: { _id: 1 } })).toEqual([6, 7]);
      expect(await got({ _id: { $lt: 'b' } }, { sort: { _id: 1 } })).toEqual(['a']);
      expect(await got({ _id: { $gte: new Date(0) } }, { sort: { _id: 1 } })).toEqual([new Date(5)]);
      expect(await got({ _id: { $gt: 5 } }, { hint: { _id: 1 }, min: { _id: 'a' } })).toEqual([]);
      expect(await got({ _id: { $gt: new MinKey() } }, { sort: { _id: 1 } })).toEqual(ids);
      expect(await got({ _id: { $lt: new MaxKey() } }, { sort: { _id: -1 } })).toEqual([...ids].reverse());
      const nan = fresh();
      await nan.insertMany([{ _id: new Double(Number.NaN) }, { _id: -5 }, { _id: 5 }]);
      const n2 = async (f: Document) => (await nan.find(f).sort({ _id: 1 }).toArray()).map((d) => (typeof d._id === 'number' && Number.isNaN(d._id) ? 'NaN' : d._id));
      expect(await n2({ _id: { $lt: 5 } })).toEqual([-5]);
      expect(await n2({ _id: { $gt: Number.NaN } })).toEqual([]);
      expect(await n2({ _id: { $gte: Number.NaN } })).toEqual(['NaN']);
      expect(await n2({})).toEqual(['NaN', -5, 5]);
    });
  });

  describe('chunked walk over mixed _id types', () => {
    function mixedIds(): unknown[] {
      const out: unknown[] = [null];
      for (let i = 0; i < 6; i++) {
        out.push(new ObjectId(), `s${i}`, new Int32(i * 3 - 7), Long.fromNumber(i * 3 - 6), new Double(i * 3 - 5.5), Decimal128.fromString(`${i}.25`));
        out.push(new Date(Date.UTC(2020, 0, i + 1)), { a: i, b: 'x' }, new Binary(Buffer.from([i, i + 1])));
      }
      out.push(true, false, Long.fromBigInt(2n ** 60n), '', { a: 1, b: 'x', c: 0 });
      return out;
    }

    /** The snapshot's read: first chunk unbounded, then `min: {_id: last}` (inclusive) dropping the row equal to last. */
    async function walk(c: Collection<any>, chunk: number, between?: (lastId: unknown, round: number) => Promise<void>): Promise<unknown[]> {
      const seen: unknown[] = [];
      let last: { id: unknown } | undefined;
      for (let round = 0; ; round++) {
        const rows = await c.find({}, { ...raw, hint: { _id: 1 }, sort: { _id: 1 }, limit: chunk + 1, ...(last ? { min: { _id: last.id } } : {}) }).toArray();
        const fresh = last && rows.length > 0 && ej(rows[0]._id) === ej(last.id) ? rows.slice(1) : rows;
        const page = fresh.slice(0, chunk);
        if (page.length === 0) return seen;
        seen.push(...page.map((d) => d._id));
        last = { id: page[page.length - 1]._id };
        if (between) await between(last.id, round);
      }
    }

    it('returns every document exactly once, in the order of one find().sort({_id: 1})', async () => {
      const c = fresh();
      const ids = mixedIds();
      const docs = ids.map((id, i) => ({ _id: id, i }));
      await client.db('snap').command({ insert: c.collectionName, documents: docs.map((_, i) => docs[(i * 11) % docs.length]) });
      const all = (await c.find({}, raw).sort({ _id: 1 }).toArray()).map((d) => ej(d._id));
      expect(all).toHaveLength(ids.length);
      const walked = (await walk(c, 7)).map(ej);
      expect(walked).toEqual(all);
      expect(new Set(walked).size).toBe(ids.length);
    });

    it('with writes between chunks: inserted ahead is read, inserted behind is not, deleted ahead is not', async () => {
      const c = fresh();
      const ids = mixedIds();
      await client.db('snap').command({ insert: c.collectionName, documents: ids.map((id, i) => ({ _id: id, i })) });
      const aheadInserted: string[] = [];
      const behindInserted: string[] = [];
      const deletedAhead: string[] = [];
      const walked = await walk(c, 7, async (lastId, round) => {
        if (round === 1) {
          // Behind the position: a number below every number read so far, and null is already taken.
          const behind = new Int32(-1000 - round);
          await c.insertOne({ _id: behind });
          behindInserted.push(ej(behind));
          // Ahead: a string, an ObjectId, a date (all past the numbers being read now).
          for (const id of [`zz${round}`, new ObjectId(), new Date(Date.UTC(2030, 0, 1))]) {
            await c.insertOne({ _id: id as never });
            aheadInserted.push(ej(id));
          }
          // Delete the next two documents ahead of the position.
          const next = await c.find({}, { ...raw, hint: { _id: 1 }, min: { _id: lastId }, limit: 3 }).toArray();
          for (const d of next.slice(1)) {
            await c.deleteOne({ _id: d._id });
            deletedAhead.push(ej(d._id));
          }
        }
      });
      const w = walked.map(ej);
      expect(new Set(w).size).toBe(w.length);
      for (const id of aheadInserted) expect(w).toContain(id);
      for (const id of behindInserted) expect(w).not.toContain(id);
      for (const id of deletedAhead) expect(w).not.toContain(id);
      const final = (await c.find({}, raw).sort({ _id: 1 }).toArray()).map((d) => ej(d._id)).filter((id) => !behindInserted.includes(id));
      expect(w).toEqual(final);
    });

    it('stays in order through many writes (the index splits and merges its blocks)', async () => {
      const c = fresh();
      const live = new Map<string, unknown>();
      const ids = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `k${String(i).padStart(5, '0')}` : i % 3 === 1 ? i : new ObjectId()));
      await c.insertMany(ids.map((id) => ({ _id: id as never })));
      for (const id of ids) live.set(ej(id), id);
      const walked = await walk(c, 100, async (lastId, round) => {
        if (round >= 20) return; // (inserting ahead at the tail forever would never end the walk)
        // Delete a few ahead, insert a few ahead (a new ObjectId is above every ObjectId so far, and ObjectIds sort last here).
        const sample = await c.find({}, { ...raw, hint: { _id: 1 }, min: { _id: lastId }, limit: 40 }).toArray();
        for (const d of sample.filter((_, i) => i % 10 === 5)) {
          await c.deleteOne({ _id: d._id });
          live.delete(ej(d._id));
        }
        for (let j = 0; j < 5; j++) {
          const id = new ObjectId();
          await c.insertOne({ _id: id });
          live.set(ej(id), id);
        }
      });
      const w = walked.map(ej);
      expect(new Set(w).size).toBe(w.length);
      const final = (await c.find({}, raw).sort({ _id: 1 }).toArray()).map((d) => ej(d._id));
      expect(w).toEqual(final);
      expect(final.length).toBe(live.size);
    });

    it('an open cursor reads on from its position: getMore sees inserts ahead, not behind, and not deleted documents', async () => {
      const c = fresh();
      await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })));
      const cursor = c.find({}, { hint: { _id: 1 }, batchSize: 5 });
      const first: unknown[] = [];
      for (let i = 0; i < 5; i++) first.push((await cursor.next())?._id);
      expect(first).toEqual([0, 1, 2, 3, 4]);
      await c.insertMany([{ _id: -1 }, { _id: 100 }, { _id: 'after' }]);
      await c.deleteOne({ _id: 10 });
      const rest = (await cursor.toArray()).map((d) => d._id);
      expect(rest).toEqual([5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100, 'after']);
    });
  });

  describe('progress estimates and catalog', () => {
    it('estimatedDocumentCount, countDocuments, $collStats count, listCollections and listIndexes', async () => {
      const c = fresh();
      await c.insertMany(Array.from({ length: 42 }, (_, i) => ({ _id: i, even: i % 2 === 0 })));
      expect(await c.estimatedDocumentCount()).toBe(42);
      expect(await c.countDocuments({})).toBe(42);
      expect(await c.countDocuments({ even: true })).toBe(21);
      const [stats] = await c.aggregate([{ $collStats: { count: {} } }]).toArray();
      expect(stats).toMatchObject({ ns: `snap.${c.collectionName}`, count: 42 });
      expect(stats?.['localTime']).toBeInstanceOf(Date);
      const colls = await client.db('snap').listCollections({ name: c.collectionName }).toArray();
      expect(colls).toEqual([expect.objectContaining({ name: c.collectionName, type: 'collection', idIndex: expect.objectContaining({ key: { _id: 1 }, name: '_id_' }) })]);
      expect(await c.listIndexes().toArray()).toEqual([expect.objectContaining({ v: 2, key: { _id: 1 }, name: '_id_' })]);
      const missing = client.db('snap').collection('never-created');
      expect(await missing.estimatedDocumentCount()).toBe(0);
      expect(await missing.countDocuments({})).toBe(0);
      expect(await missing.find({}, { hint: { _id: 1 }, min: { _id: 0 } }).toArray()).toEqual([]);
    });
  });
});
