import { BSON, MongoClient } from 'mongodb';
import { canonicalEjson } from '@runnel/lake';
import { MongoStandIn } from '@runnel/testing';
import { insertStandInDocuments, standInDocuments } from './standin-documents';

const options = { collections: ['orders', 'customers', 'products'], count: 40, documentBytes: 1024, seed: 1 };

describe('the snapshot benchmark documents', () => {
  it('are a function of the options only, round-robin over the collections, each about documentBytes of BSON', () => {
    const a = [...standInDocuments(options)];
    const b = [...standInDocuments(options)];
    expect(a.map(([c, d]) => `${c} ${canonicalEjson(d)}`)).toEqual(b.map(([c, d]) => `${c} ${canonicalEjson(d)}`));
    expect(a).toHaveLength(40);
    expect(a.slice(0, 4).map(([c]) => c)).toEqual(['orders', 'customers', 'products', 'orders']);
    for (const [, d] of a) {
      const size = BSON.calculateObjectSize(d);
      expect(size).toBeGreaterThan(1024 - 40);
      expect(size).toBeLessThanOrEqual(1024);
    }
    // Ids of three BSON types, distinct within each collection.
    expect(a.slice(0, 3).map(([, d]) => (d['_id'] as { _bsontype?: string })._bsontype ?? typeof d['_id'])).toEqual(['number', 'string', 'ObjectId']);
    for (const c of options.collections) {
      const ids = a.filter(([name]) => name === c).map(([, d]) => canonicalEjson(d['_id']));
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('are inserted through the driver exactly as generated, so an insert event and a snapshot row carry the same document', async () => {
    const server = await MongoStandIn.start();
    const client = await new MongoClient(server.uri).connect();
    try {
      const r = await insertStandInDocuments({ ...options, uri: server.uri, database: 'shop', round: 9 });
      expect(r).toMatchObject({ documents: 40, perCollection: { orders: 14, customers: 13, products: 13 } });
      const want = [...standInDocuments(options)].map(([c, d]) => `${c} ${canonicalEjson(d)}`).sort();
      const got: string[] = [];
      for (const c of options.collections) {
        for (const d of await client.db('shop').collection(c).find({}, { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true }).toArray()) got.push(`${c} ${canonicalEjson(d)}`);
      }
      expect(got.sort()).toEqual(want);
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
