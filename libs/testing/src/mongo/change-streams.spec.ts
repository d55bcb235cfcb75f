import { type ChangeStreamDocument, type Document, MongoClient, type ResumeToken, Timestamp } from 'mongodb';
import { type StandInWithDriver, startWithDriver, stopWithDriver, take } from './driver-fixture';
import type { MongoStandIn } from './mongo-stand-in';

const ops = (events: ChangeStreamDocument[]) => events.map((e) => e.operationType);

describe('MongoStandIn change streams (real driver)', () => {
  let s: StandInWithDriver;
  let m: MongoStandIn;
  let client: MongoClient;
  let n = 0;
  const name = () => `s${++n}`;

  beforeAll(async () => ({ m, client } = s = await startWithDriver()));
  afterAll(() => stopWithDriver(s));

  it('shows insert, update, replace, delete, drop and invalidate on a collection stream', async () => {
    const c = client.db('cs').collection(name());
    const cs = c.watch([], { maxAwaitTimeMS: 200 });
    await cs.tryNext(); // opens the cursor
    await c.insertOne({ _id: 1 as never, a: 1, arr: [1] });
    await c.updateOne({ _id: 1 as never }, { $set: { a: 2 }, $unset: { gone: 1 }, $push: { arr: 2 } } as never);
    await c.replaceOne({ _id: 1 as never }, { b: 1 });
    await c.deleteOne({ _id: 1 as never });
    await c.drop();
    const events = await take(cs, 6);
    expect(ops(events)).toEqual(['insert', 'update', 'replace', 'delete', 'drop', 'invalidate']);
    const [ins, upd, rep, del, drop] = events as Document[];
    expect(ins).toMatchObject({ ns: { db: 'cs', coll: c.collectionName }, documentKey: { _id: 1 }, fullDocument: { _id: 1, a: 1, arr: [1] } });
    expect(ins['clusterTime']).toBeInstanceOf(Timestamp);
    expect(ins['wallTime']).toBeInstanceOf(Date);
    expect(upd['updateDescription']).toEqual({ updatedFields: { a: 2, 'arr.1': 2 }, removedFields: [], truncatedArrays: [] });
    expect(upd['fullDocument']).toBeUndefined();
    expect(rep['fullDocument']).toEqual({ _id: 1, b: 1 });
    expect(del).toMatchObject({ documentKey: { _id: 1 } });
    expect(del['fullDocument']).toBeUndefined();
    expect(drop).toMatchObject({ ns: { db: 'cs', coll: c.collectionName } });
    expect(cs.closed).toBe(true);
  });

  it('gives tokens in the server shape, 82 + seconds + increment, matching clusterTime', async () => {
    const c = client.db('cs').collection(name());
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    await c.insertOne({ a: 1 });
    const [e] = await take(cs, 1);
    const data = (e._id as { _data: string })._data;
    expect(data).toMatch(/^82[0-9A-F]{16}/);
    const ct = (e as Document)['clusterTime'] as Timestamp;
    expect(parseInt(data.slice(2, 10), 16)).toBe(ct.high);
    expect(parseInt(data.slice(10, 18), 16)).toBe(ct.low);
    await cs.close();
  });

  it('scopes a database stream to its database and a deployment stream to everything but internal databases', async () => {
    const dbName = `scope${name()}`;
    const dbStream = client.db(dbName).watch([], { maxAwaitTimeMS: 100 });
    const all = client.watch([], { maxAwaitTimeMS: 100 });
    await dbStream.tryNext();
    await all.tryNext();
    await client.db(dbName).collection('x').insertOne({ i: 1 });
    await client.db('elsewhere').collection('y').insertOne({ i: 2 });
    await client.db(dbName).collection('z').insertOne({ i: 3 });
    expect((await take(dbStream, 2)).map((e) => (e as Document)['fullDocument'].i)).toEqual([1, 3]);
    expect((await take(all, 3)).map((e) => (e as Document)['fullDocument'].i)).toEqual([1, 2, 3]);
    await client.db(dbName).dropDatabase();
    const ends = await take(dbStream, 3);
    expect(ops(ends)).toEqual(['drop', 'drop', 'dropDatabase']);
    expect(ops(await take(dbStream, 1))).toEqual(['invalidate']);
    await dbStream.close();
    await all.close();
  });

  it('resumes with resumeAfter exactly after the given event: no loss, no repeat', async () => {
    const c = client.db('cs').collection(name());
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i as never })));
    const first = await take(cs, 4);
    await cs.close();
    const resumed = c.watch([], { maxAwaitTimeMS: 100, resumeAfter: first[3]._id });
    const rest = await take(resumed, 6);
    expect(rest.map((e) => (e as Document)['documentKey']._id)).toEqual([4, 5, 6, 7, 8, 9]);
    await c.insertOne({ _id: 10 as never });
    expect(((await take(resumed, 1))[0] as Document)['documentKey']._id).toBe(10);
    await resumed.close();
  });

  it('resumes with startAtOperationTime at the first event at or after that time', async () => {
    const c = client.db('cs').collection(name());
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    await c.insertMany([{ _id: 1 as never }, { _id: 2 as never }, { _id: 3 as never }]);
    const events = (await take(cs, 3)) as Document[];
    await cs.close();
    const from = c.watch([], { maxAwaitTimeMS: 100, startAtOperationTime: events[1]['clusterTime'] as Timestamp });
    expect((await take(from, 2)).map((e) => (e as Document)['documentKey']._id)).toEqual([2, 3]);
    await from.close();
  });

  it('startAtOperationTime in the future shows nothing written before that time', async () => {
    const c = client.db('cs').collection(name());
    // Two seconds ahead (not one): with one, a loaded machine could cross into that second before
    // 'before' was written, and 'before' then rightly showed up (a fresh-clone run did).
    const future = new Timestamp({ t: Math.floor(Date.now() / 1000) + 2, i: 0 });
    const cs = c.watch([], { maxAwaitTimeMS: 100, startAtOperationTime: future });
    await cs.tryNext();
    await c.insertOne({ _id: 'before' as never });
    while (Date.now() / 1000 < future.high) await new Promise((r) => setTimeout(r, 50));
    await c.insertOne({ _id: 'after' as never });
    expect(((await take(cs, 1))[0] as Document)['documentKey']._id).toBe('after');
    await cs.close();
  });

  it('reports a postBatchResumeToken on empty batches that moves on while idle', async () => {
    const c = client.db('cs').collection(name());
    const cs = c.watch([], { maxAwaitTimeMS: 300 });
    const tokens: ResumeToken[] = [];
    cs.on('resumeTokenChanged', (t) => tokens.push(t));
    expect(await cs.tryNext()).toBeNull();
    const t0 = cs.resumeToken as { _data: string };
    expect(t0._data).toMatch(/^82/);
    const deadline = Date.now() + 5000;
    let later: { _data: string } | undefined;
    while (Date.now() < deadline) {
      expect(await cs.tryNext()).toBeNull();
      const t = cs.resumeToken as { _data: string };
      if (t._data.slice(2, 18) > t0._data.slice(2, 18)) {
        later = t;
        break;
      }
    }
    expect(later).toBeDefined();
    // The idle token is a valid resume point: nothing before it comes back, what follows does.
    await cs.close();
    await c.insertOne({ _id: 'after' as never });
    const resumed = c.watch([], { maxAwaitTimeMS: 100, resumeAfter: later });
    expect(((await take(resumed, 1))[0] as Document)['documentKey']._id).toBe('after');
    await resumed.close();
  });

  it('updateLookup returns the document as it is when the event is read, or null once deleted', async () => {
    const c = client.db('cs').collection(name());
    const cs = c.watch([], { maxAwaitTimeMS: 100, fullDocument: 'updateLookup' });
    await cs.tryNext();
    await c.insertOne({ _id: 1 as never, v: 0 });
    await c.updateOne({ _id: 1 as never }, { $set: { v: 1 } });
    await c.updateOne({ _id: 1 as never }, { $set: { v: 2 } });
    await c.insertOne({ _id: 2 as never, v: 0 });
    await c.updateOne({ _id: 2 as never }, { $set: { v: 1 } });
    await c.deleteOne({ _id: 2 as never });
    const events = (await take(cs, 6)) as Document[];
    expect(ops(events as ChangeStreamDocument[])).toEqual(['insert', 'update', 'update', 'insert', 'update', 'delete']);
    // Both updates of 1 carry its latest version (v: 2), not the version each update wrote.
    expect(events[1]['fullDocument']).toEqual({ _id: 1, v: 2 });
    expect(events[2]['fullDocument']).toEqual({ _id: 1, v: 2 });
    // 2 was deleted before its update was read.
    expect(events[4]['fullDocument']).toBeNull();
    // The insert keeps the document it inserted.
    expect(events[0]['fullDocument']).toEqual({ _id: 1, v: 0 });
    await cs.close();
  });

  it('ends a collection stream with invalidate on rename; startAfter continues, resumeAfter is refused (260)', async () => {
    const db = client.db('cs');
    const c = db.collection(name());
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    await c.insertOne({ _id: 1 as never });
    await c.rename(`${c.collectionName}_renamed`);
    const events = (await take(cs, 3)) as Document[];
    expect(ops(events as ChangeStreamDocument[])).toEqual(['insert', 'rename', 'invalidate']);
    expect(events[1]['to']).toEqual({ db: 'cs', coll: `${c.collectionName}_renamed` });
    const invalidate = events[2]['_id'];
    const bad = c.watch([], { maxAwaitTimeMS: 100, resumeAfter: invalidate });
    await expect(bad.next()).rejects.toMatchObject({ code: 260 });
    await bad.close();
    const again = c.watch([], { maxAwaitTimeMS: 100, startAfter: invalidate });
    await again.tryNext();
    await c.insertOne({ _id: 'new' as never });
    expect(((await take(again, 1))[0] as Document)['documentKey']._id).toBe('new');
    await again.close();
  });

  it('starts after an event with startAfter', async () => {
    const c = client.db('cs').collection(name());
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    await c.insertMany([{ _id: 1 as never }, { _id: 2 as never }]);
    const [e1] = await take(cs, 1);
    await cs.close();
    const from = c.watch([], { maxAwaitTimeMS: 100, startAfter: e1._id });
    expect(((await take(from, 1))[0] as Document)['documentKey']._id).toBe(2);
    await from.close();
  });

  it('sends the $changeStream options as the driver gave them (recorded)', async () => {
    const c = client.db('cs').collection(name());
    const cs = c.watch([{ $match: { operationType: 'insert' } }], { maxAwaitTimeMS: 100, fullDocument: 'updateLookup', showExpandedEvents: true });
    await cs.tryNext();
    const agg = m.changeStreamAggregates().at(-1)!;
    expect(agg.options).toMatchObject({ fullDocument: 'updateLookup', showExpandedEvents: true });
    expect(agg.pipeline).toEqual([{ $match: { operationType: 'insert' } }]);
    await cs.close();
  });
});
