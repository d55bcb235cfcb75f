import { type Document, MongoClient, type Timestamp } from 'mongodb';
import { type StandInWithDriver, startWithDriver, stopWithDriver } from './driver-fixture';

describe('MongoStandIn transactions (real driver)', () => {
  let s: StandInWithDriver;
  let client: MongoClient;

  beforeAll(async () => ({ client } = s = await startWithDriver()));
  afterAll(() => stopWithDriver(s));

  it("a committed transaction's events appear together at commit, under one cluster time, with lsid and txnNumber", async () => {
    const c = client.db('txn').collection<any>('committed');
    await c.insertOne({ _id: 0 });
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    const session = client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 1 }, { session });
      await c.updateOne({ _id: 0 }, { $set: { a: 1 } }, { session });
      await c.deleteOne({ _id: 0 }, { session });
      // Nothing is in the oplog before the commit.
      expect(await cs.tryNext()).toBeNull();
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    const events: Document[] = [];
    for (let i = 0; i < 3; i++) events.push((await cs.next()) as Document);
    expect(events.map((e) => e['operationType'])).toEqual(['insert', 'update', 'delete']);
    const times = events.map((e) => (e['clusterTime'] as Timestamp).toString());
    expect(new Set(times).size).toBe(1);
    expect(new Set(events.map((e) => e['_id']._data)).size).toBe(3);
    for (const e of events) {
      expect(Number(e['txnNumber'])).toBeGreaterThan(0);
      expect(e['lsid']).toMatchObject({ id: expect.anything() });
    }
    await cs.close();
  });

  it('an aborted transaction leaves the data as it was and writes no events', async () => {
    const c = client.db('txn').collection<any>('aborted');
    await c.insertOne({ _id: 0, v: 0 });
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    const session = client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 1 }, { session });
      await c.updateOne({ _id: 0 }, { $set: { v: 1 } }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect(await c.find().toArray()).toEqual([{ _id: 0, v: 0 }]);
    await c.insertOne({ _id: 'after' });
    expect(((await cs.next()) as Document)['documentKey']).toEqual({ _id: 'after' });
    await cs.close();
  });

  it('withTransaction (the driver retries commit on its own) commits once', async () => {
    const c = client.db('txn').collection<any>('with');
    const session = client.startSession();
    try {
      await session.withTransaction(async () => {
        await c.insertOne({ _id: 1 }, { session });
      });
    } finally {
      await session.endSession();
    }
    expect(await c.countDocuments()).toBe(1);
  });
});
