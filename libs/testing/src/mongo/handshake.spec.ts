import { MongoClient } from 'mongodb';
import { MongoStandIn } from './mongo-stand-in';

describe('MongoStandIn handshake (real driver)', () => {
  let m: MongoStandIn;

  beforeAll(async () => {
    m = await MongoStandIn.start();
  });

  afterAll(async () => {
    await m.stop();
  });

  it('is discovered as the primary of replica set rs0 through ?replicaSet=rs0', async () => {
    expect(m.uri).toBe(`mongodb://127.0.0.1:${m.port}/?replicaSet=rs0`);
    const client = new MongoClient(m.uri, { serverSelectionTimeoutMS: 5000 });
    try {
      expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
      const hello = await client.db('admin').command({ hello: 1 });
      expect(hello).toMatchObject({ setName: 'rs0', isWritablePrimary: true, hosts: [m.address], me: m.address, primary: m.address, logicalSessionTimeoutMinutes: 30 });
      expect(hello['maxWireVersion']).toBeGreaterThanOrEqual(21);
      expect(hello['$clusterTime']).toBeDefined();
      expect(hello['operationTime']).toBeDefined();
    } finally {
      await client.close();
    }
  });

  it('works with ?directConnection=true, and answers buildInfo like a 7.0 server', async () => {
    const client = new MongoClient(m.directUri, { serverSelectionTimeoutMS: 5000 });
    try {
      const info = await client.db('admin').command({ buildInfo: 1 });
      expect(info['version']).toMatch(/^7\.0\./);
      expect(await client.db('test').collection('c').insertOne({ _id: 1 as never })).toMatchObject({ acknowledged: true });
    } finally {
      await client.close();
    }
  });

  it('answers an unknown command with 59 CommandNotFound', async () => {
    const client = new MongoClient(m.uri);
    try {
      await expect(client.db('admin').command({ frobnicate: 1 })).rejects.toMatchObject({ code: 59, codeName: 'CommandNotFound' });
    } finally {
      await client.close();
    }
  });

  it('closes every connection on stop (no handles left behind)', async () => {
    const other = await MongoStandIn.start();
    const client = new MongoClient(other.uri);
    await client.db('admin').command({ ping: 1 });
    expect(other.connections).toBeGreaterThan(0);
    await other.stop();
    expect(other.connections).toBe(0);
    await client.close();
  });
});
