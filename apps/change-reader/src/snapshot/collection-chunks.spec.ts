import { Binary, Decimal128, Double, EJSON, Int32, Long, ObjectId } from 'bson';
import { type Collection, MongoClient } from 'mongodb';
import { MongoStandIn } from '@runnel/testing';
import { readChunk } from './collection-chunks';
import { documentKeyOf } from './document-key';

/** Snapshot reads through the real driver on the MongoDB stand-in: every document once, in _id order, whatever the _id types. */
describe('readChunk', () => {
  let server: MongoStandIn;
  let client: MongoClient;
  let n = 0;
  const fresh = async (): Promise<Collection> => client.db('snap').collection(`c${++n}`);

  beforeAll(async () => {
    server = await MongoStandIn.start();
    client = await new MongoClient(server.uri).connect();
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  async function walk(c: Collection, size: number, between?: (lastId: unknown) => Promise<void>): Promise<unknown[]> {
    const seen: unknown[] = [];
    let after: unknown;
    for (;;) {
      const chunk = await readChunk(c, after, size);
      seen.push(...chunk.rows.map((r) => r._id));
      if (chunk.done) return seen;
      after = chunk.lastId;
      await between?.(after);
    }
  }

  const mixedIds = [
    null,
    new Int32(-3),
    Long.fromString('9007199254740993'),
    new Double(2.5),
    Decimal128.fromString('3.00'),
    'a',
    'b',
    { k: 1, s: 'x' },
    new Binary(Buffer.from([1, 2])),
    new ObjectId('65a1b2c3d4e5f60718293a4b'),
    false,
    true,
    new Date(0),
  ];

  it('walks mixed _id types chunk by chunk: each document once, in the order of one sorted find', async () => {
    const c = await fresh();
    await c.insertMany(mixedIds.map((_id, i) => ({ _id: _id as never, i })));
    for (let i = 0; i < 40; i++) await c.insertOne({ _id: new Int32(100 + i) as never, i });
    const sorted = (await c.find({}, { sort: { _id: 1 }, promoteValues: false }).toArray()).map((d) => documentKeyOf(d._id));
    for (const size of [1, 3, 7, 100]) expect((await walk(c, size)).map(documentKeyOf)).toEqual(sorted);
  });

  it('keeps the BSON types of the values it reads', async () => {
    const c = await fresh();
    await c.insertOne({ _id: 'typed', d: new Double(5), i: new Int32(5), l: Long.fromNumber(5) } as never);
    const { rows } = await readChunk(c, undefined, 10);
    expect(EJSON.stringify(rows[0], { relaxed: false })).toBe('{"_id":"typed","d":{"$numberDouble":"5.0"},"i":{"$numberInt":"5"},"l":{"$numberLong":"5"}}');
  });

  it('under writes between chunks: documents behind the position are not returned, those ahead are; none twice', async () => {
    const c = await fresh();
    await c.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: new Int32(i * 10) as never })));
    let step = 0;
    const ids = (await walk(c, 7, async (lastId) => {
      step++;
      const at = Number((lastId as Int32).valueOf());
      await c.insertOne({ _id: new Int32(at - 5) as never }); // behind: not returned
      await c.insertOne({ _id: new Int32(at + 5) as never }); // ahead: returned
      await c.deleteOne({ _id: new Int32(at + 10) as never }); // ahead, deleted: absent
    })).map((id) => Number((id as Int32).valueOf()));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(step).toBeGreaterThan(3);
    for (const id of ids) expect(id % 10 === 0 || id % 10 === 5).toBe(true);
    expect(ids.filter((id) => id % 10 === 5).length).toBe(step);
  });

  it('an empty collection is one empty chunk, done', async () => {
    expect(await readChunk(await fresh(), undefined, 10)).toEqual({ rows: [], raw: [], lastId: undefined, done: true });
  });
});
