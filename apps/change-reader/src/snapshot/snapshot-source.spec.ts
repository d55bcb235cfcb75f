import { Binary, Decimal128, Double, EJSON, Int32, Long, ObjectId } from 'bson';
import { Redis } from 'ioredis';
import { type Document, MongoClient } from 'mongodb';
import { Secret } from '@runnel/config';
import { createLogger } from '@runnel/telemetry';
import { MongoStandIn, RedisServer } from '@runnel/testing';
import type { FreshStart, ResumePoint, SourceItem } from '../sources/change-source';
import { EXACT_BSON } from '../sources/exact-bson-cursors';
import { MongoChangeSource } from '../sources/mongodb-source';
import { documentKeyOf } from './document-key';
import { redisFirstWriteStore, SnapshotChunks } from './snapshot-chunks';
import { snapshotPositionOf } from './snapshot-position';
import { SnapshotProgress } from './snapshot-progress';
import { type SnapshotMode, SnapshotSource, snapshotsOn } from './snapshot-source';

/** The snapshot in front of the change stream, through the real driver on the MongoDB stand-in, chunks kept in a real Redis. */
describe('SnapshotSource', () => {
  let mongo: MongoStandIn;
  let redisServer: RedisServer;
  let redis: Redis;
  let client: MongoClient;
  let db = 0;
  const logger = createLogger({ service: 'snapshot-spec', level: 'silent' });

  beforeAll(async () => {
    [mongo, redisServer] = await Promise.all([MongoStandIn.start(), RedisServer.start()]);
    redis = new Redis(redisServer.url);
    client = await new MongoClient(mongo.uri).connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await client?.close();
    await Promise.all([mongo?.stop(), redisServer?.stop()]);
  });

  const mixedId = (i: number): unknown => {
    switch (i % 8) {
      case 0: return new Int32(i);
      case 1: return Long.fromNumber(i * 3);
      case 2: return new Double(i + 0.5);
      case 3: return `s${String(i).padStart(6, '0')}`;
      case 4: return new ObjectId(i.toString(16).padStart(24, '0'));
      case 5: return { k: i, t: 'x' };
      case 6: return new Binary(Buffer.from(String(i)));
      default: return Decimal128.fromString(`${i}.25`);
    }
  };

  /** A database with `n` documents per collection, mixed `_id` types. */
  async function seeded(n: number, collections = ['a', 'b']): Promise<string> {
    const name = `snap${++db}`;
    for (const c of collections) {
      const docs: Document[] = [];
      for (let i = 0; i < n; i++) docs.push({ _id: mixedId(i), i, c });
      await client.db(name).collection(c).insertMany(docs);
    }
    return name;
  }

  function source(database: string, o: { mode?: SnapshotMode; chunkSize?: number; parallelism?: number; progress?: SnapshotProgress; prefix?: string; checkpoint?: () => Promise<Record<string, unknown> | undefined> } = {}) {
    const inner = new MongoChangeSource({ uri: new Secret(mongo.uri), database, collections: [], fullDocument: 'updateLookup', fullDocumentBeforeChange: 'off', pipeline: [], maxAwaitTimeMS: 100, idleRepeatMs: 200 });
    const progress = o.progress ?? new SnapshotProgress(inner.stream);
    return new SnapshotSource({
      inner, mode: o.mode ?? 'initial', chunkSize: o.chunkSize ?? 50, parallelism: o.parallelism ?? 2,
      chunks: new SnapshotChunks(redisFirstWriteStore(redis), o.prefix ?? `{t${db}}`, inner.stream), progress, logger, checkpoint: o.checkpoint,
    });
  }

  /** Items until `stop` says so (or the read ends). */
  async function take(s: SnapshotSource, from: ResumePoint | undefined, fresh: FreshStart | undefined, stop: (items: SourceItem[]) => boolean): Promise<SourceItem[]> {
    const ac = new AbortController();
    const items: SourceItem[] = [];
    for await (const item of s.read(from, ac.signal, from ? undefined : { fresh })) {
      items.push(item);
      if (stop(items)) break;
    }
    ac.abort();
    return items;
  }
  const rows = (items: SourceItem[]) => items.flatMap((i) => (i.type === 'change' && i.change.operationType === 'snapshot' ? [i] : []));
  const keyOf = (i: SourceItem) => (i.type === 'change' ? `${i.change.ns?.coll}|${documentKeyOf(i.change.documentKey?._id)}|${EJSON.stringify(i.change.fullDocument ?? null, { relaxed: false })}` : i.type);

  it('snapshotsOn: initial only for a new stream, when_needed for every fresh start, never never', () => {
    expect(snapshotsOn('initial', 'new stream')).toBe(true);
    expect(snapshotsOn('initial', 'history lost')).toBe(false);
    expect(snapshotsOn('initial_only', 'new stream')).toBe(true);
    expect(snapshotsOn('when_needed', 'history lost')).toBe(true);
    expect(snapshotsOn('when_needed', 'checkpoint missing')).toBe(true);
    expect(snapshotsOn('never', 'new stream')).toBe(false);
    expect(snapshotsOn('initial', undefined)).toBe(false);
  });

  it('a new stream: its position first, then every document once in _id (BSON) order per collection, then the changes made meanwhile', async () => {
    const database = await seeded(230);
    const s = source(database);
    const expected = await client.db(database).collection('a').find({}, { sort: { _id: 1 }, hint: { _id: 1 }, ...EXACT_BSON }).toArray();
    let wrote = false;
    const items = await take(s, undefined, 'new stream', (got) => {
      // A write while the snapshot is under way: its event must come after the rows, from the position.
      if (!wrote && rows(got).length === 10) {
        wrote = true;
        void client.db(database).collection('b').insertOne({ _id: 'late', i: -1 } as never);
      }
      return got.some((i) => i.type === 'change' && i.change.operationType === 'insert');
    });
    expect(items[0].type).toBe('idle');
    expect(snapshotPositionOf(items[0].type === 'idle' ? items[0].token : undefined)?.at).toBeUndefined();
    const r = rows(items);
    expect(r.slice(0, 230).map((i) => (i.type === 'change' ? documentKeyOf(i.change.documentKey?._id) : ''))).toEqual(expected.map((d) => documentKeyOf(d._id)));
    // Every document of both collections once (the late insert may be a row too: read after P).
    const keys = r.map((i) => (i.type === 'change' ? `${i.change.ns?.coll}|${documentKeyOf(i.change.documentKey?._id)}` : ''));
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.filter((k) => !k.endsWith('"late"}')).length).toBe(460);
    const insert = items.at(-1)!;
    expect(insert.type === 'change' && insert.change.documentKey?._id).toBe('late');
    // Each row's token names its place; ordinals count from 1 over the whole snapshot.
    const last = snapshotPositionOf(r.at(-1)!.type === 'change' ? (r.at(-1) as { token: Record<string, unknown> }).token : undefined);
    expect(last?.at).toMatchObject({ namespace: `${database}.b`, n: r.length, nsRow: r.length - 230 });
    // Exact types survive: an Int32 id stays $numberInt, a Double $numberDouble.
    const first = r[0].type === 'change' ? r[0].change : undefined;
    expect(EJSON.stringify(first?.fullDocument ?? null, { relaxed: false })).toMatch(/"\$number/);
  });

  it('resuming inside the snapshot re-emits exactly the rows the first read emitted, whatever changed in the collection since', async () => {
    const database = await seeded(300, ['a']);
    const s = source(database, { chunkSize: 40 });
    const first = await take(s, undefined, 'new stream', (got) => rows(got).length >= 300);
    const firstRows = rows(first);
    // The collection changes under the snapshot: rows after the resume point must not move.
    const coll = client.db(database).collection('a');
    await coll.deleteMany({ i: { $in: [120, 121, 200, 250] } });
    await coll.insertMany([{ _id: 's000121x', i: 1000 }, { _id: new Int32(-5), i: 1001 }] as never[]);
    await coll.updateOne({ i: 130 }, { $set: { changed: true } });
    const resumeAt = firstRows[100];
    const again = await take(s, { token: (resumeAt as { token: Record<string, unknown> }).token }, undefined, (got) => rows(got).length >= 199);
    expect(rows(again).map(keyOf)).toEqual(firstRows.slice(101).map(keyOf));
  });

  it("marks each collection's last row as the end of its run (its batch is cut there), also when the collection fills its last chunk exactly", async () => {
    const database = await seeded(100, ['a', 'b']);
    const r = rows(await take(source(database, { chunkSize: 50 }), undefined, 'new stream', (got) => rows(got).length >= 200));
    expect(r.flatMap((i, k) => (i.type === 'change' && i.endOfRun ? [k] : []))).toEqual([99, 199]);
  });

  it('deletes the stored chunks the checkpoint has passed, and a replay from the checkpoint still has what it needs', async () => {
    const database = await seeded(300, ['a']);
    const prefix = `{gc${db}}`;
    let checkpoint: Record<string, unknown> | undefined;
    const s = source(database, { chunkSize: 50, prefix, checkpoint: async () => checkpoint });
    const chunkKeys = async () => (await redis.keys(`${prefix}:snapshot:*:chunk:*`)).length;
    const first = rows(
      await take(s, undefined, 'new stream', (got) => {
        // The checkpoint reaches row 120 (the third chunk) once row 160 is read.
        if (rows(got).length === 160) checkpoint = (rows(got)[120] as { token: Record<string, unknown> }).token;
        return rows(got).length >= 300;
      }),
    );
    // 6 chunks (and an empty seventh) were stored; the two the checkpoint passed are gone.
    expect(await chunkKeys()).toBe(5);
    const again = rows(await take(source(database, { chunkSize: 50, prefix }), { token: checkpoint! }, undefined, (got) => rows(got).length >= 179));
    expect(again.map(keyOf)).toEqual(first.slice(121).map(keyOf));
  });

  it('resuming where the stored chunk is gone reads on after the checkpointed row (and says so)', async () => {
    const database = await seeded(120, ['a']);
    const prefix = `{lost${db}}`;
    const s = source(database, { chunkSize: 50, prefix });
    const first = rows(await take(s, undefined, 'new stream', (got) => rows(got).length >= 120));
    for (const key of await redis.keys(`${prefix}:snapshot:*:chunk:*`)) await redis.del(key);
    const again = rows(await take(s, { token: (first[60] as { token: Record<string, unknown> }).token }, undefined, (got) => rows(got).length >= 59));
    expect(again.map(keyOf)).toEqual(first.slice(61).map(keyOf));
  });

  it('SNAPSHOT_MODE: never and a history-lost start under initial read changes only; initial_only ends with snapshot-complete', async () => {
    const database = await seeded(20, ['a']);
    for (const [mode, fresh] of [['never', 'new stream'], ['initial', 'history lost']] as const) {
      const items = await take(source(database, { mode }), undefined, fresh, (got) => got.length >= 2);
      expect(rows(items)).toHaveLength(0);
    }
    const progress = new SnapshotProgress('x');
    const only = await take(source(database, { mode: 'initial_only', progress }), undefined, 'new stream', () => false);
    expect(rows(only)).toHaveLength(20);
    expect(only.at(-1)?.type).toBe('snapshot-complete');
    expect(progress.status).toMatchObject({ phase: 'complete', rows: 20, collections: { [`${database}.a`]: { state: 'done', rows: 20, estimated_rows: 20 } } });
    // when_needed snapshots a generation started because history was lost.
    expect(rows(await take(source(database, { mode: 'when_needed' }), undefined, 'history lost', (got) => rows(got).length >= 20))).toHaveLength(20);
  });

  it('progress survives a restart: the resumed read counts from the checkpointed row, earlier collections done with their rows', async () => {
    const database = await seeded(60, ['a', 'b']);
    const s = source(database, { chunkSize: 25 });
    const first = rows(await take(s, undefined, 'new stream', (got) => rows(got).length >= 120));
    const progress = new SnapshotProgress('x');
    const resumed = source(database, { chunkSize: 25, progress });
    await take(resumed, { token: (first[89] as { token: Record<string, unknown> }).token }, undefined, (got) => rows(got).length >= 10);
    expect(progress.status).toMatchObject({ phase: 'reading', rows: 100, collections: { [`${database}.a`]: { state: 'done', rows: 60 }, [`${database}.b`]: { state: 'reading', rows: 40 } } });
  });
});
