import { MongoClient } from 'mongodb';
import { canonicalEjson } from '@runnel/lake';
import { MongoStandIn } from '@runnel/testing';
import { SEED_COLLECTIONS, seededCollection, seededDocument, seededId } from './snapshot-seed';

/** The BSON types an `_id` can have (arrays and regexes cannot be one), by the names the driver's values carry. */
const TYPES = ['MinKey', 'null', 'Int32', 'Long', 'Double', 'Decimal128', 'string', 'object', 'Binary', 'ObjectId', 'boolean', 'Date', 'Timestamp', 'MaxKey'];

/** The BSON type of a value read without promotion. */
function bsonType(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Date) return 'Date';
  const tagged = (v as { _bsontype?: string })._bsontype;
  return tagged ?? typeof v;
}

describe('seeded documents of the snapshot chaos run', () => {
  let server: MongoStandIn;
  let client: MongoClient;

  beforeAll(async () => {
    server = await MongoStandIn.start();
    client = await new MongoClient(server.uri).connect();
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('are a function of the seed and the index only', () => {
    expect(canonicalEjson(seededDocument(3, 1234, 50))).toBe(canonicalEjson(seededDocument(3, 1234, 50)));
    // Document 36 (the first after the singletons) has an ObjectId _id, which carries the seed.
    expect(canonicalEjson(seededId(3, 36))).not.toBe(canonicalEjson(seededId(4, 36)));
  });

  it('have _ids the server holds distinct (int32, int64, double and decimal values never equal), of every type in each collection, stored exactly as generated', async () => {
    const n = 1000;
    const db = client.db('seed');
    // insertMany fails on the first duplicate key: the server compares numbers of all types by value.
    for (const c of SEED_COLLECTIONS) {
      const docs = [];
      for (let j = 0; j < n; j++) if (seededCollection(j) === c) docs.push(seededDocument(7, j, 30));
      await db.collection(c).insertMany(docs, { forceServerObjectId: true });
    }
    const back = new Map<string, string>();
    for (const c of SEED_COLLECTIONS) {
      const types = new Set<string>();
      for await (const d of db.collection(c).find({}, { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true })) {
        back.set(`${c}|${canonicalEjson(d._id)}`, canonicalEjson(d));
        types.add(bsonType(d._id));
      }
      expect({ c, types: [...types].sort() }).toEqual({ c, types: [...TYPES].sort() });
    }
    expect(back.size).toBe(n);
    for (let j = 0; j < n; j++) {
      const doc = seededDocument(7, j, 30);
      expect(back.get(`${seededCollection(j)}|${canonicalEjson(doc._id)}`)).toBe(canonicalEjson(doc));
    }
  });
});
