import { type ChangeStream, type ChangeStreamDocument, type Document, MongoClient } from 'mongodb';
import { type StandInWithDriver, startWithDriver, stopWithDriver, take as takeEvents } from './driver-fixture';
import { MongoStandIn } from './mongo-stand-in';

const take = (cs: ChangeStream, n: number) => takeEvents<Document>(cs, n);

/** Opens the stream's cursor (the driver is lazy) without waiting long. */
async function open(cs: ChangeStream): Promise<void> {
  expect(await cs.tryNext()).toBeNull();
}

const MiB = 1024 * 1024;

describe('MongoStandIn change stream options (real driver)', () => {
  let s: StandInWithDriver;
  let client: MongoClient;
  let n = 0;
  const name = () => `o${++n}`;
  const watchOpts = { maxAwaitTimeMS: 100 };

  beforeAll(async () => ({ client } = s = await startWithDriver()));
  afterAll(() => stopWithDriver(s));

  describe('pre- and post-images', () => {
    it('whenAvailable gives the images recorded at write time once the collection records them (create option)', async () => {
      const db = client.db('images');
      const c = await db.createCollection(name(), { changeStreamPreAndPostImages: { enabled: true } });
      const cs = c.watch([], { ...watchOpts, fullDocument: 'whenAvailable', fullDocumentBeforeChange: 'whenAvailable' });
      await open(cs);
      await c.insertOne({ _id: 1 as never, v: 0 });
      await c.updateOne({ _id: 1 as never }, { $set: { v: 1 } });
      await c.updateOne({ _id: 1 as never }, { $set: { v: 2 } });
      await c.replaceOne({ _id: 1 as never }, { r: 1 });
      await c.deleteOne({ _id: 1 as never });
      const [ins, u1, u2, rep, del] = await take(cs, 5);
      expect(ins['fullDocument']).toEqual({ _id: 1, v: 0 });
      expect(ins['fullDocumentBeforeChange']).toBeUndefined();
      // Unlike updateLookup: each update carries the version it wrote.
      expect([u1['fullDocumentBeforeChange'], u1['fullDocument']]).toEqual([{ _id: 1, v: 0 }, { _id: 1, v: 1 }]);
      expect([u2['fullDocumentBeforeChange'], u2['fullDocument']]).toEqual([{ _id: 1, v: 1 }, { _id: 1, v: 2 }]);
      expect([rep['fullDocumentBeforeChange'], rep['fullDocument']]).toEqual([{ _id: 1, v: 2 }, { _id: 1, r: 1 }]);
      expect(del['fullDocumentBeforeChange']).toEqual({ _id: 1, r: 1 });
      await cs.close();
    });

    it('whenAvailable gives null without recorded images; collMod turns recording on', async () => {
      const db = client.db('images');
      const c = db.collection(name());
      await c.insertOne({ _id: 1 as never, v: 0 });
      const cs = c.watch([], { ...watchOpts, fullDocument: 'whenAvailable', fullDocumentBeforeChange: 'whenAvailable' });
      await open(cs);
      await c.updateOne({ _id: 1 as never }, { $set: { v: 1 } });
      await db.command({ collMod: c.collectionName, changeStreamPreAndPostImages: { enabled: true } });
      await c.updateOne({ _id: 1 as never }, { $set: { v: 2 } });
      const [u1, u2] = await take(cs, 2);
      expect([u1['fullDocumentBeforeChange'], u1['fullDocument']]).toEqual([null, null]);
      expect([u2['fullDocumentBeforeChange'], u2['fullDocument']]).toEqual([{ _id: 1, v: 1 }, { _id: 1, v: 2 }]);
      await cs.close();
    });

    it('required without a recorded image fails the stream with 47 NoMatchingDocument', async () => {
      const c = client.db('images').collection(name());
      await c.insertOne({ _id: 1 as never, v: 0 });
      const pre = c.watch([], { ...watchOpts, fullDocumentBeforeChange: 'required' });
      const post = c.watch([], { ...watchOpts, fullDocument: 'required' });
      await open(pre);
      await open(post);
      await c.updateOne({ _id: 1 as never }, { $set: { v: 1 } });
      const e1 = await pre.next().catch((e: unknown) => e);
      expect(e1).toMatchObject({ code: 47, codeName: 'NoMatchingDocument' });
      expect((e1 as Error).message).toMatch(/^Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event/);
      const e2 = await post.next().catch((e: unknown) => e);
      expect(e2).toMatchObject({ code: 47 });
      expect((e2 as Error).message).toMatch(/^Change stream was configured to require a post-image for all update events/);
      expect(pre.closed && post.closed).toBe(true);
    });
  });

  describe('user stages after $changeStream', () => {
    it('$match on operationType, ns.coll and fullDocument fields', async () => {
      const db = client.db('stages');
      const a = db.collection(`${name()}a`);
      const b = db.collection(`${name()}b`);
      const cs = db.watch([{ $match: { operationType: { $in: ['insert', 'delete'] }, 'ns.coll': a.collectionName } }], watchOpts);
      const big = db.watch([{ $match: { 'fullDocument.size': { $gte: 10 } } }], watchOpts);
      await open(cs);
      await open(big);
      await a.insertOne({ _id: 1 as never, size: 5 });
      await b.insertOne({ _id: 2 as never, size: 50 });
      await a.updateOne({ _id: 1 as never }, { $set: { size: 6 } });
      await a.insertOne({ _id: 3 as never, size: 11 });
      await a.deleteOne({ _id: 1 as never });
      expect((await take(cs, 3)).map((e) => [e['operationType'], e['documentKey']._id])).toEqual([
        ['insert', 1],
        ['insert', 3],
        ['delete', 1],
      ]);
      expect((await take(big, 2)).map((e) => e['documentKey']._id)).toEqual([2, 3]);
      await cs.close();
      await big.close();
    });

    it('$project by inclusion and exclusion keeps the resume token working', async () => {
      const c = client.db('stages').collection(name());
      const inc = c.watch([{ $project: { operationType: 1, 'fullDocument.a': 1 } }], watchOpts);
      const exc = c.watch([{ $project: { fullDocument: 0, ns: 0 } }], watchOpts);
      await open(inc);
      await open(exc);
      await c.insertOne({ _id: 1 as never, a: 1, b: 2 });
      const [i] = await take(inc, 1);
      expect(Object.keys(i).sort()).toEqual(['_id', 'fullDocument', 'operationType']);
      expect(i['fullDocument']).toEqual({ a: 1 });
      const [x] = await take(exc, 1);
      expect(x['fullDocument']).toBeUndefined();
      expect(x['ns']).toBeUndefined();
      expect(x['documentKey']).toEqual({ _id: 1 });
      await c.insertOne({ _id: 2 as never, a: 3 });
      await inc.close();
      const resumed = c.watch([{ $project: { operationType: 1, 'fullDocument.a': 1 } }], { ...watchOpts, resumeAfter: i['_id'] });
      expect((await take(resumed, 1))[0]['fullDocument']).toEqual({ a: 3 });
      await resumed.close();
      await exc.close();
    });

    it('a stage that changes or removes _id fails the stream with 280, as on the server', async () => {
      const c = client.db('stages').collection(name());
      const cs = c.watch([{ $project: { _id: 0, operationType: 1 } }], watchOpts);
      await open(cs);
      await c.insertOne({ a: 1 });
      await expect(cs.next()).rejects.toMatchObject({ code: 280, message: expect.stringMatching(/^Encountered an event whose _id field, which contains the resume token, was modified by the pipeline/) });
      const set = c.watch([{ $set: { _id: 'mine' } }], watchOpts);
      await open(set);
      await c.insertOne({ a: 2 });
      await expect(set.next()).rejects.toMatchObject({ code: 280 });
    });

    it('refuses stages a change stream does not allow, and a split stage that is not last', async () => {
      const c = client.db('stages').collection(name());
      const grouped = c.watch([{ $group: { _id: null } }]);
      await expect(grouped.tryNext()).rejects.toMatchObject({ code: 40602 });
      const misplaced = c.watch([{ $changeStreamSplitLargeEvent: {} }, { $match: {} }]);
      await expect(misplaced.tryNext()).rejects.toMatchObject({ code: 7182802 });
    });
  });

  describe('large events', () => {
    it('splits an event above 16 MiB into fragments, each with its own token; resuming from a fragment continues with the next', async () => {
      const db = client.db('large');
      const c = await db.createCollection(name(), { changeStreamPreAndPostImages: { enabled: true } });
      const split = [{ $changeStreamSplitLargeEvent: {} }];
      const cs = c.watch(split, { ...watchOpts, fullDocument: 'required', fullDocumentBeforeChange: 'required' });
      await open(cs);
      await c.insertOne({ _id: 1 as never, a: 'a'.repeat(10 * MiB) });
      // The update event carries the 10 MiB pre-image and the 10 MiB post-image: ~20 MiB.
      await c.updateOne({ _id: 1 as never }, { $set: { b: 'b' } });
      await c.insertOne({ _id: 2 as never, small: true });
      const [ins, f1, f2, after] = await take(cs, 4);
      expect(ins['splitEvent']).toBeUndefined();
      expect(f1['splitEvent']).toEqual({ fragment: 1, of: 2 });
      expect(f2['splitEvent']).toEqual({ fragment: 2, of: 2 });
      expect(f1['_id']).not.toEqual(f2['_id']);
      // Fields go out smallest first: the small ones and one image in the first fragment, the other image in the second.
      expect(f1['operationType']).toBe('update');
      expect(f1['updateDescription']).toEqual({ updatedFields: { b: 'b' }, removedFields: [], truncatedArrays: [] });
      const images = [f1, f2].flatMap((f) => ['fullDocument', 'fullDocumentBeforeChange'].filter((k) => k in f));
      expect(images.sort()).toEqual(['fullDocument', 'fullDocumentBeforeChange']);
      expect(after['documentKey']).toEqual({ _id: 2 });
      await cs.close();
      const resumed = c.watch(split, { ...watchOpts, fullDocument: 'required', fullDocumentBeforeChange: 'required', resumeAfter: f1['_id'] });
      const [next, last] = await take(resumed, 2);
      expect(next['splitEvent']).toEqual({ fragment: 2, of: 2 });
      expect(next['_id']).toEqual(f2['_id']);
      expect(last['documentKey']).toEqual({ _id: 2 });
      await resumed.close();
      // From the last fragment (the position after the whole event), as on mongod: what follows it.
      const afterLast = c.watch(split, { ...watchOpts, fullDocument: 'required', fullDocumentBeforeChange: 'required', resumeAfter: f2['_id'] });
      const [following] = await take(afterLast, 1);
      expect(following['documentKey']).toEqual({ _id: 2 });
      await afterLast.close();
      // A fragment's token is its event's with the fragment number appended before the end byte.
      const small = c.watch([{ $project: { fullDocument: 0, fullDocumentBeforeChange: 0 } }], { ...watchOpts, resumeAfter: ins['_id'] });
      const [whole] = await take(small, 1);
      const eventData = (whole['_id'] as { _data: string })._data;
      for (const f of [f1, f2]) expect((f['_id'] as { _data: string })._data.startsWith(eventData.slice(0, -2))).toBe(true);
      expect((f1['_id'] as { _data: string })._data.length).toBe(eventData.length + 4);
      await small.close();
      // Once the event no longer needs splitting (its images gone), a fragment's token names a
      // split that is not there: 280 ChangeStreamFatalError, as mongod.
      const unsplit = c.watch(split, { ...watchOpts, resumeAfter: f1['_id'] });
      await expect(unsplit.tryNext()).rejects.toMatchObject({ code: 280, message: expect.stringMatching(/produced a different split/) });
      await unsplit.close();
    });

    it('without the split stage an event above 16 MiB fails the cursor with 10334 BSONObjectTooLarge', async () => {
      const db = client.db('large');
      const c = await db.createCollection(name(), { changeStreamPreAndPostImages: { enabled: true } });
      const cs = c.watch([], { ...watchOpts, fullDocument: 'whenAvailable', fullDocumentBeforeChange: 'whenAvailable' });
      await open(cs);
      await c.insertOne({ _id: 1 as never, a: 'a'.repeat(10 * MiB) });
      // Read apart: as on a server, a getMore that meets the oversized event fails as a whole,
      // events before it in the same batch included.
      await take(cs, 1);
      await c.updateOne({ _id: 1 as never }, { $set: { b: 'b' } });
      const err = await cs.next().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 10334, codeName: 'BSONObjectTooLarge' });
      expect((err as Error).message).toMatch(/BSONObj size: \d+ \(0x[0-9A-F]+\) is invalid\. Size must be between 0 and 16793600\(16MB\) First element: _id: \{ _data: "82/);
      expect(cs.closed).toBe(true);
    });
  });

  describe('showExpandedEvents', () => {
    it('shows create, createIndexes, dropIndexes, modify, rename with operationDescription, drop', async () => {
      const db = client.db(`expanded${name()}`);
      const cs = db.watch([], { ...watchOpts, showExpandedEvents: true });
      const plain = db.watch([], watchOpts);
      await open(cs);
      await open(plain);
      const c = await db.createCollection('c1');
      await c.createIndex({ a: 1 }, { name: 'a_1' });
      await c.dropIndex('a_1');
      await db.command({ collMod: 'c1', changeStreamPreAndPostImages: { enabled: true } });
      await c.insertOne({ _id: 1 as never });
      await c.rename('c2');
      await db.collection('c2').drop();
      const events = await take(cs, 7);
      expect(events.map((e) => e['operationType'])).toEqual(['create', 'createIndexes', 'dropIndexes', 'modify', 'insert', 'rename', 'drop']);
      expect(events[0]['operationDescription']).toMatchObject({ idIndex: { key: { _id: 1 }, name: '_id_' } });
      expect(events[1]['operationDescription']).toMatchObject({ indexes: [{ key: { a: 1 }, name: 'a_1' }] });
      expect(events[5]['operationDescription']).toEqual({ to: { db: db.databaseName, coll: 'c2' } });
      expect(events[5]['to']).toEqual({ db: db.databaseName, coll: 'c2' });
      expect(events[0]['collectionUUID']).toBeDefined();
      // Without the option: only the data events, rename and drop.
      expect((await take(plain, 3)).map((e) => e['operationType'])).toEqual(['insert', 'rename', 'drop']);
      await cs.close();
      await plain.close();
    });
  });

  describe('the oplog window', () => {
    it('a resume from before the window answers 286 ChangeStreamHistoryLost', async () => {
      const small = await MongoStandIn.start({ oplogSize: 20 });
      const cl = new MongoClient(small.uri);
      try {
        const c = cl.db('window').collection('w');
        const cs = c.watch([], watchOpts);
        await open(cs);
        await c.insertOne({ _id: 0 as never });
        const [first] = await take(cs, 1);
        await cs.close();
        // Still inside the window: resumes.
        const ok = c.watch([], { ...watchOpts, resumeAfter: first['_id'] });
        await open(ok);
        await ok.close();
        await c.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: i + 1 })) as never);
        const late = c.watch([], { ...watchOpts, resumeAfter: first['_id'] });
        const err = await late.next().catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 286, codeName: 'ChangeStreamHistoryLost' });
        expect((err as Error).message).toBe('Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
        const byTime = c.watch([], { ...watchOpts, startAtOperationTime: first['clusterTime'] });
        await expect(byTime.next()).rejects.toMatchObject({ code: 286 });
        expect(small.status().oplog.last - small.status().oplog.first + 1).toBe(20);
      } finally {
        await cl.close();
        await small.stop();
      }
    });

    it('a cursor that falls behind the window fails its getMore with 286', async () => {
      const small = await MongoStandIn.start({ oplogSize: 10 });
      const cl = new MongoClient(small.uri);
      try {
        const c = cl.db('window').collection('w');
        const cs = c.watch([], { ...watchOpts, batchSize: 2 });
        await open(cs);
        await c.insertMany(Array.from({ length: 4 }, (_, i) => ({ _id: i })) as never);
        await take(cs, 2);
        await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: 100 + i })) as never);
        // The events in the buffer, then the cursor's next getMore finds its position gone.
        const err = await take(cs, 20).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 286 });
      } finally {
        await cl.close();
        await small.stop();
      }
    });

    it('a token from another stand-in (another deployment) is refused', async () => {
      const other = await MongoStandIn.start();
      const cl = new MongoClient(other.uri);
      try {
        const c = client.db('window').collection(name());
        const cs = c.watch([], watchOpts);
        await open(cs);
        await c.insertOne({ a: 1 });
        const [e] = await take(cs, 1);
        await cs.close();
        const foreign = cl.db('window').collection(c.collectionName).watch([], { ...watchOpts, resumeAfter: e['_id'] });
        // Its history does not go back to the token's time (286), or the time is there but not the event (280).
        const err = (await foreign.next().catch((x: unknown) => x)) as { code?: number };
        expect([280, 286]).toContain(err.code);
      } finally {
        await cl.close();
        await other.stop();
      }
    });
  });

  it('an insert into a new collection shows as create + insert with showExpandedEvents (implicit creation)', async () => {
    const db = client.db(`implicit${name()}`);
    const cs = db.watch([], { ...watchOpts, showExpandedEvents: true });
    await open(cs);
    await db.collection('fresh').insertOne({ _id: 1 as never });
    expect((await take(cs, 2)).map((e) => (e as ChangeStreamDocument).operationType)).toEqual(['create', 'insert']);
    await cs.close();
  });
});
