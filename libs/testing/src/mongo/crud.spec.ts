import { type Collection, type Document, MongoClient, MongoServerError } from 'mongodb';
import { type StandInWithDriver, startWithDriver, stopWithDriver } from './driver-fixture';
import type { MongoStandIn } from './mongo-stand-in';

describe('MongoStandIn CRUD (real driver)', () => {
  let s: StandInWithDriver;
  let m: MongoStandIn;
  let client: MongoClient;
  let n = 0;
  const fresh = (): Collection<any> => client.db('crud').collection(`c${++n}`);

  beforeAll(async () => ({ m, client } = s = await startWithDriver()));
  afterAll(() => stopWithDriver(s));

  it('inserts, finds by _id and refuses a duplicate _id with E11000', async () => {
    const c = fresh();
    await c.insertOne({ _id: 'a' as never, x: 1 });
    await c.insertMany([{ _id: 'b' as never, x: 2 }, { x: 3 }]);
    expect(await c.findOne({ _id: 'a' as never })).toEqual({ _id: 'a', x: 1 });
    expect(await c.countDocuments()).toBe(3);
    expect(await c.estimatedDocumentCount()).toBe(3);
    const err = await c.insertOne({ _id: 'a' as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000 });
    expect((err as Error).message).toMatch(/E11000 duplicate key error collection: crud\.c\d+ index: _id_ dup key/);
  });

  it('treats numerically equal _ids of different types as the same key', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 as never });
    await expect(c.insertOne({ _id: 1.0 as never })).rejects.toMatchObject({ code: 11000 });
  });

  it('applies $set/$unset/$inc/$push with dotted paths', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 as never, a: { b: 1, c: 2 }, n: 1, tags: ['x'] });
    const r = await c.updateOne({ _id: 1 as never }, { $set: { 'a.b': 5, 'd.e': 'new' }, $unset: { 'a.c': '' }, $inc: { n: 2, m: 1 }, $push: { tags: 'y' } } as never);
    expect(r).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    expect(await c.findOne({ _id: 1 as never })).toEqual({ _id: 1, a: { b: 5 }, n: 3, tags: ['x', 'y'], d: { e: 'new' }, m: 1 });
    await c.updateOne({ _id: 1 as never }, { $push: { tags: { $each: ['z', 'w'] } } } as never);
    expect((await c.findOne({ _id: 1 as never }))?.['tags']).toEqual(['x', 'y', 'z', 'w']);
  });

  it('reports a no-op update as matched but not modified', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 as never, a: 1 });
    expect(await c.updateOne({ _id: 1 as never }, { $set: { a: 1 } })).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
  });

  it('replaces a document, keeping its _id, and refuses to change the _id', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 as never, a: 1, b: 2 });
    await c.replaceOne({ _id: 1 as never }, { c: 3 });
    expect(await c.findOne({ _id: 1 as never })).toEqual({ _id: 1, c: 3 });
    await expect(c.replaceOne({ _id: 1 as never }, { _id: 2, c: 3 })).rejects.toMatchObject({ code: 66 });
    await expect(c.updateOne({ _id: 1 as never }, { $set: { _id: 2 } })).rejects.toMatchObject({ code: 66 });
  });

  it('upserts from the filter equality fields, and updates many with multi', async () => {
    const c = fresh();
    const r = await c.updateOne({ _id: 7 as never, kind: 'k' }, { $set: { v: 1 } }, { upsert: true });
    expect(r).toMatchObject({ upsertedCount: 1, upsertedId: 7 });
    expect(await c.findOne({ _id: 7 as never })).toEqual({ _id: 7, kind: 'k', v: 1 });
    const r2 = await c.replaceOne({ _id: 8 as never }, { w: 2 }, { upsert: true });
    expect(r2.upsertedId).toBe(8);
    await c.insertMany([{ g: 1 }, { g: 1 }, { g: 2 }]);
    expect(await c.updateMany({ g: 1 }, { $inc: { h: 1 } })).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    expect(await c.countDocuments({ h: 1 })).toBe(2);
  });

  it('deletes one or many', async () => {
    const c = fresh();
    await c.insertMany([{ g: 1 }, { g: 1 }, { g: 1 }, { g: 2 }]);
    expect(await c.deleteOne({ g: 1 })).toMatchObject({ deletedCount: 1 });
    expect(await c.deleteMany({ g: 1 })).toMatchObject({ deletedCount: 2 });
    expect(await c.countDocuments()).toBe(1);
  });

  it('findAndModify: update returning the old or new document, upsert, remove', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 as never, n: 1 });
    expect(await c.findOneAndUpdate({ _id: 1 as never }, { $inc: { n: 1 } })).toEqual({ _id: 1, n: 1 });
    expect(await c.findOneAndUpdate({ _id: 1 as never }, { $inc: { n: 1 } }, { returnDocument: 'after' })).toEqual({ _id: 1, n: 3 });
    expect(await c.findOneAndUpdate({ _id: 2 as never }, { $set: { n: 9 } }, { upsert: true, returnDocument: 'after' })).toEqual({ _id: 2, n: 9 });
    expect(await c.findOneAndReplace({ _id: 2 as never }, { r: 1 }, { returnDocument: 'after', projection: { _id: 0 } })).toEqual({ r: 1 });
    expect(await c.findOneAndDelete({ _id: 1 as never })).toEqual({ _id: 1, n: 3 });
    expect(await c.findOne({ _id: 1 as never })).toBeNull();
  });

  it('filters with comparison, $in, $ne, $exists, $and/$or on _id and other fields', async () => {
    const c = fresh();
    await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i as never, v: i % 3, ...(i % 2 ? { odd: true } : {}) })));
    const ids = async (f: Document) => (await c.find(f).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ _id: { $gt: 6 } })).toEqual([7, 8, 9]);
    expect(await ids({ _id: { $gte: 2, $lt: 5 } })).toEqual([2, 3, 4]);
    expect(await ids({ _id: { $lte: 1 } })).toEqual([0, 1]);
    expect(await ids({ v: { $in: [0] } })).toEqual([0, 3, 6, 9]);
    expect(await ids({ v: { $ne: 0 }, odd: { $exists: false } })).toEqual([2, 4, 8]);
    expect(await ids({ $or: [{ _id: 1 }, { _id: 8 }] })).toEqual([1, 8]);
    expect(await ids({ $and: [{ _id: { $gt: 2 } }, { v: 2 }] })).toEqual([5, 8]);
    expect(await ids({ _id: { $in: [3, 1, 42] } })).toEqual([1, 3]);
  });

  it('reads a collection in _id-ordered chunks: find({_id: {$gt: last}}).sort({_id: 1}).limit(n)', async () => {
    const c = fresh();
    const total = 1050;
    // Inserted out of order, with a few strings (which sort after every number).
    const docs = Array.from({ length: total }, (_, i) => ({ _id: ((i * 7919) % total) as never, i }));
    docs.push({ _id: 'z' as never, i: -1 }, { _id: 'a' as never, i: -2 });
    await c.insertMany(docs);
    const seen: unknown[] = [];
    let last: unknown = undefined;
    for (;;) {
      const chunk = await c
        .find((last === undefined ? {} : { _id: { $gt: last } }) as Document)
        .sort({ _id: 1 })
        .limit(100)
        .toArray();
      if (chunk.length === 0) break;
      seen.push(...chunk.map((d) => d._id));
      last = chunk[chunk.length - 1]._id;
      // Type bracketing: $gt on a number never returns strings, so the chunks end at the numbers.
      if (typeof last === 'string') break;
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
    const strings = await c.find({ _id: { $gt: '' } }).sort({ _id: 1 }).toArray();
    expect(strings.map((d) => d._id)).toEqual(['a', 'z']);
    const desc = await c.find({}).sort({ _id: -1 }).limit(3).toArray();
    expect(desc.map((d) => d._id)).toEqual(['z', 'a', total - 1]);
  });

  it('iterates a large result through getMore batches (batchSize) with skip and limit', async () => {
    const c = fresh();
    await c.insertMany(Array.from({ length: 500 }, (_, i) => ({ _id: i as never })));
    const cursor = c.find({}, { batchSize: 7 }).sort({ _id: 1 }).skip(10).limit(250);
    const all = await cursor.toArray();
    expect(all.length).toBe(250);
    expect(all[0]._id).toBe(10);
    expect(all[249]._id).toBe(259);
    expect(m.commands.filter((x) => x.name === 'getMore').length).toBeGreaterThan(10);
  });

  it('sorts by other fields, including mixed types in BSON order', async () => {
    const c = fresh();
    await c.insertMany([{ _id: 1 as never, k: 'b' }, { _id: 2 as never, k: 3 }, { _id: 3 as never }, { _id: 4 as never, k: null }, { _id: 5 as never, k: 'a' }, { _id: 6 as never, k: 1.5 }]);
    const order = (await c.find({}).sort({ k: 1, _id: 1 }).toArray()).map((d) => d._id);
    expect(order).toEqual([3, 4, 6, 2, 5, 1]);
  });

  it('projects by inclusion and exclusion, with dotted paths', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 as never, a: 1, b: { c: 2, d: 3 }, e: [{ f: 1, g: 2 }] });
    expect(await c.findOne({}, { projection: { a: 1, 'b.c': 1 } })).toEqual({ _id: 1, a: 1, b: { c: 2 } });
    expect(await c.findOne({}, { projection: { _id: 0, 'e.f': 1 } })).toEqual({ e: [{ f: 1 }] });
    expect(await c.findOne({}, { projection: { b: 0, e: 0 } })).toEqual({ _id: 1, a: 1 });
    await expect(c.findOne({}, { projection: { a: 1, b: 0 } })).rejects.toMatchObject({ code: 31254 });
  });

  it('creates, lists, renames and drops collections and databases', async () => {
    const db = client.db('catalog');
    await db.createCollection('one');
    await expect(db.createCollection('one')).rejects.toMatchObject({ code: 48 });
    await db.collection('two').insertOne({ a: 1 });
    expect((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort()).toEqual(['one', 'two']);
    await db.collection('two').rename('three');
    expect(await db.collection('three').countDocuments()).toBe(1);
    expect((await client.db('admin').admin().listDatabases()).databases.map((d) => d.name)).toContain('catalog');
    expect(await db.collection('three').drop()).toBe(true);
    expect(await db.collection('missing').drop()).toBe(true);
    await db.dropDatabase();
    expect((await db.listCollections().toArray()).length).toBe(0);
  });

  it('counts with countDocuments (aggregate $match + $group) and distinct', async () => {
    const c = fresh();
    await c.insertMany([{ t: 'x' }, { t: 'y' }, { t: 'x' }]);
    expect(await c.countDocuments({ t: 'x' })).toBe(2);
    expect(await c.countDocuments({}, { limit: 1 })).toBe(1);
    expect((await c.distinct('t')).sort()).toEqual(['x', 'y']);
  });
});
