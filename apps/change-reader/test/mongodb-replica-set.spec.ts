import { randomBytes } from 'node:crypto';
import { type Document, Long, MongoClient, ObjectId } from 'mongodb';
import { Secret } from '@runnel/config';
import { toEnvelope } from '../src/change-envelope-mapper';
import type { ResumePoint, SourceItem } from '../src/sources/change-source';
import { MongoChangeSource } from '../src/sources/mongodb-source';
import { sourceScenarios } from './mongodb-source-scenarios';

/**
 * MongoChangeSource against a REAL replica set (or sharded cluster): set MONGODB_URI, e.g.
 * `MONGODB_URI='mongodb://127.0.0.1:27017/?replicaSet=rs0'`. Writes go to a fresh collection in
 * MONGODB_TEST_DATABASE (default runnel_test), which is dropped at the end. Also runs the
 * scenarios the stand-in runs (mongodb-source-scenarios.ts): exact BSON types, the driver's resume
 * after CursorNotFound (needs `enableTestCommands` for the failCommand fail point; skipped
 * otherwise), and OVERSIZE_EVENTS split/skip/fail on an 18 MB event (split/skip need MongoDB 7.0 or
 * 6.0.9+).
 */
const uri = process.env['MONGODB_URI'];
// Straight to stderr: jest drops the console output of a file whose tests were all skipped.
if (!uri) process.stderr.write('\nMONGODB_URI not set: skipping the real replica set suite (apps/change-reader/test/mongodb-replica-set.spec.ts)\n');
const describeReplicaSet = uri ? describe : describe.skip;

type Change = Extract<SourceItem, { type: 'change' }>;

/** One read() of the source, item by item, with a timeout per item. */
class Items {
  readonly ac = new AbortController();
  readonly #it: AsyncIterator<SourceItem>;

  constructor(source: MongoChangeSource, from?: ResumePoint) {
    this.#it = source.read(from, this.ac.signal)[Symbol.asyncIterator]();
  }

  async next(ms = 15_000): Promise<SourceItem | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no item within ${ms} ms`)), ms)));
    try {
      const r = await Promise.race([this.#it.next(), timeout]);
      return r.done ? undefined : r.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next item that is not idle. */
  async event(): Promise<Exclude<SourceItem, { type: 'idle' }> | undefined> {
    for (;;) {
      const item = await this.next();
      if (item?.type !== 'idle') return item;
    }
  }

  async changes(n: number): Promise<Change[]> {
    const out: Change[] = [];
    while (out.length < n) {
      const item = await this.event();
      if (item?.type !== 'change') throw new Error(`expected a change, got ${JSON.stringify(item)}`);
      out.push(item);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.#it.return?.();
  }
}

describeReplicaSet('MongoChangeSource against a real replica set (MONGODB_URI)', () => {
  const database = process.env['MONGODB_TEST_DATABASE'] ?? 'runnel_test';
  const collection = `changes_${Date.now()}_${randomBytes(3).toString('hex')}`;
  let client: MongoClient;
  const readers: Items[] = [];

  const source = () =>
    new MongoChangeSource({
      uri: new Secret(uri!),
      database,
      collections: [collection],
      fullDocument: 'updateLookup',
      fullDocumentBeforeChange: 'off',
      pipeline: [],
      maxAwaitTimeMS: 200,
      idleRepeatMs: 1000,
    });
  const read = (from?: ResumePoint) => {
    const items = new Items(source(), from);
    readers.push(items);
    return items;
  };

  beforeAll(async () => {
    client = await MongoClient.connect(uri!, { serverSelectionTimeoutMS: 10_000 });
    await client.db(database).createCollection(collection);
  });

  afterAll(async () => {
    for (const r of readers) await r.stop().catch(() => undefined);
    await client?.db(database).collection(collection).drop().catch(() => undefined);
    await client?.close();
  });

  it('reads insert, update and delete with tokens, resumes after a token, and ends with an invalidate when the collection is dropped', async () => {
    const coll = client.db(database).collection<Document>(collection);
    const items = read();
    const first = await items.next();
    expect(first?.type).toBe('idle'); // the position before any event: the stream is open now

    const _id = new ObjectId();
    await coll.insertOne({ _id, n: Long.fromNumber(1), at: new Date('2026-01-01T00:00:00Z'), name: 'first' });
    await coll.updateOne({ _id }, { $set: { n: Long.fromNumber(2) } });
    await coll.deleteOne({ _id });
    const changes = await items.changes(3);

    const stream = `${database}.${collection}`;
    const envelopes = changes.map((c, i) => toEnvelope(c.change, stream, 1, i + 1));
    expect(envelopes.map((e) => e.operation)).toEqual(['insert', 'update', 'delete']);
    expect(envelopes.every((e) => e.database === database && e.collection === collection)).toBe(true);
    expect(envelopes.every((e) => e.document_key === `{"_id":{"$oid":"${_id.toHexString()}"}}`)).toBe(true);
    expect(envelopes[0].full_document).toBe(`{"_id":{"$oid":"${_id.toHexString()}"},"n":{"$numberLong":"1"},"at":{"$date":{"$numberLong":"1767225600000"}},"name":"first"}`);
    expect(envelopes[1].update_description).toContain('"updatedFields":{"n":{"$numberLong":"2"}}');
    // updateLookup reads the document when the event is read, not when it happened: it may be gone.
    expect([null, `{"_id":{"$oid":"${_id.toHexString()}"},"n":{"$numberLong":"2"},"at":{"$date":{"$numberLong":"1767225600000"}},"name":"first"}`]).toContain(envelopes[1].full_document);
    expect(envelopes[2].full_document).toBeNull();
    for (const e of envelopes) expect(e.cluster_time).toMatch(/^\d+\.\d+$/);
    const times = envelopes.map((e) => e.cluster_time.split('.').map(Number));
    const later = ([t, i]: number[], [pt, pi]: number[]) => t > pt || (t === pt && i > pi);
    for (let i = 1; i < times.length; i++) expect(later(times[i], times[i - 1])).toBe(true);
    expect(envelopes.every((e) => e.wall_time !== null)).toBe(true);

    // Resuming after the insert's token replays exactly the update and the delete.
    const replay = read({ token: changes[0].token });
    const again = await replay.changes(2);
    expect(again.map((c) => c.change.operationType)).toEqual(['update', 'delete']);
    expect(again.map((c) => c.change._id)).toEqual([changes[1].change._id, changes[2].change._id]);
    await replay.stop();

    // Dropping the collection: a drop event, then an invalidate, then the read ends.
    await coll.drop();
    const drop = await items.event();
    expect(drop).toMatchObject({ type: 'change', change: { operationType: 'drop' } });
    const invalidate = await items.event();
    expect(invalidate?.type).toBe('invalidate');
    expect(await items.next()).toBeUndefined();

    // startAfter the invalidate continues on the re-created collection.
    const after = read({ token: invalidate!.token, startAfter: true });
    await after.next(); // an idle token: the stream is open (idleRepeatMs)
    const again_id = new ObjectId();
    await coll.insertOne({ _id: again_id, again: true });
    const [next] = await after.changes(1);
    expect(next.change).toMatchObject({ operationType: 'insert', documentKey: { _id: again_id } });
  });
});

if (uri) {
  sourceScenarios('a real replica set (MONGODB_URI)', async () => ({
    uri,
    async failNextChangeStreamGetMore(admin, code) {
      try {
        // The server's own test fail point, limited to the source's connections by its appName.
        await admin.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['getMore'], errorCode: code, appName: 'runnel-change-reader' } });
        return true;
      } catch {
        return false; // not started with enableTestCommands
      }
    },
    stop: async () => undefined,
  }));
}
