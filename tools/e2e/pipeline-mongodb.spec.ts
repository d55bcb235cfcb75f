import { S3Client } from '@aws-sdk/client-s3';
import { Double, Int32, Long, ObjectId } from 'bson';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { ResnapshotRequests } from '@runnel/checkpoint';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectionState, currentStateFromLake, diffStates, downloadLakeObjects, lakeState, readLakeEnvelopes, type StreamReport, verifyLake } from '@runnel/lake';
import { eventually, MongoStandIn, PipelineUnderTest, RedisServer, S3Server } from '@runnel/testing';
import { compareStates, serverCollectionState } from '../chaos/collection-state';
import { runWorkload } from '../mongo/workload';

/**
 * The pipeline on the MongoDB stand-in (or, with MONGODB_URI set, on that real replica set: the
 * scenarios that steer the server itself — a forced history loss — then skip), through the real driver, where a real MongoDB differs from
 * a source whose documents never change: updateLookup reads a document as it is when the event is
 * read, so a replay sees other versions than the first read did. Each scenario checks the lake
 * twice: every event exactly once (verifyLake), and the collections' current state computed from
 * the lake equal to what the driver's find() returns.
 */
describe('pipeline on the MongoDB stand-in (real driver)', () => {
  /** A real deployment to run against instead of the stand-in (its databases shop, lag, big are dropped). */
  const realUri = process.env.MONGODB_URI;
  const standInOnly = realUri ? it.skip : it;
  let mongo: MongoStandIn | undefined;
  let uri: string;
  let redis: RedisServer;
  let s3: S3Server;
  let client: MongoClient;
  let s3client: S3Client;
  const pipelines: PipelineUnderTest[] = [];
  const openRedis: Redis[] = [];

  beforeAll(async () => {
    [mongo, redis, s3] = await Promise.all([realUri ? undefined : MongoStandIn.start(), RedisServer.start(), S3Server.start(['lake'])]);
    uri = realUri ?? mongo!.uri;
    client = new MongoClient(uri);
    if (realUri) for (const db of ['shop', 'lag', 'big']) await client.db(db).dropDatabase();
    s3client = new S3Client(s3.clientConfig);
  });
  afterAll(async () => {
    await Promise.all(pipelines.map((p) => p.stop('SIGKILL')));
    openRedis.forEach((r) => r.disconnect());
    await client?.close();
    s3client?.destroy();
    await Promise.all([mongo?.stop(), redis?.stop(), s3?.stop()]);
  });

  /** The three built services for database `db`, lake prefix `db/`, queue prefix `{db}`. */
  async function pipeline(db: string, reader: Record<string, string> = {}) {
    const p = await PipelineUnderTest.start({
      redis,
      s3,
      s3Prefix: db,
      env: { QUEUE_PREFIX: `{${db}}` },
      // these scenarios count change events; the snapshot has its own (tools/chaos/snapshot-chaos.spec.ts)
      reader: { SOURCE: 'mongodb', MONGODB_URI: uri, MONGODB_DATABASE: db, FULL_DOCUMENT: 'updateLookup', SNAPSHOT_MODE: 'never', BATCH_SIZE: '40', BATCH_TIMEOUT_MS: '1000', LEASE_TTL_MS: '3000', ...reader },
      // JOB_LOCK_MS 3 s (default 30 s), as the reader's lease: a failover that restores jobs as active
      // with lapsed locks gets them back through BullMQ's stalled-job check, which with the default
      // took 85–95 s under a loaded npm test (the recovery, not its speed, is what is checked here).
      writer: { FORMAT: 'jsonl', COMPRESSION: 'zstd', JOB_LOCK_MS: '3000' },
      uploader: { RETRY_DELAY_MS: '50', JOB_LOCK_MS: '3000' },
      // Writer and uploader take any free port (no test asks them): a port picked with freePort() and
      // bound later can be taken in between by the earlier scenarios' services (EADDRINUSE).
      metricsPorts: 'reader',
    });
    pipelines.push(p);
    const ready = async () => (await p.readerReady())?.reader;
    return {
      /** The reader's running process. */
      get reader() {
        return p.services.get('change-reader')!;
      },
      readerPort: p.port('change-reader'),
      ready,
      /**
       * Until the reader has opened its change stream: /ready reports has_position (its checkpoint holds a
       * resume position). ('reading' comes a moment before, and a write in between is not in the stream.)
       */
      streaming: () => p.positioned(30_000),
      /** Restarts the reader (an operator, or Kubernetes after a crash). */
      restartReader: (extra: Record<string, string> = {}) => p.restart('change-reader', 'SIGTERM', extra),
      /** Until the reader's checkpoint covers `events` events of the current generation; the services' last words if not. */
      drained: (events: number, timeoutMs = 60_000) => p.drained(events, timeoutMs),
      lake: (): Promise<StreamReport[]> => p.lake(verifyLake),
      state: async () => {
        const lake = lakeState(await readLakeEnvelopes(s3client, 'lake', `${db}/`));
        const names = (await client.db(db).listCollections().toArray()).map((c) => c.name);
        return { comparison: compareStates(lake.collections, await serverCollectionState(client, db, names)), unknown: lake.unknown };
      },
      /** The same equality read independently, by DuckDB from the objects (latest row per _id by seq): a summary per collection that differs. */
      duckdbDiffs: async (generation: number): Promise<string[]> => {
        const dir = mkdtempSync(join(tmpdir(), 'runnel-e2e-lake-'));
        try {
          await downloadLakeObjects(s3client, 'lake', `${db}/`, { stream: db, generation }, dir);
          const diffs: string[] = [];
          for (const name of (await client.db(db).listCollections().toArray()).map((c) => c.name)) {
            const lake = await currentStateFromLake({ dir }, { stream: db, generation, namespace: `${db}.${name}` });
            const diff = diffStates(lake.documents, await collectionState(client.db(db).collection(name)));
            if (!diff.equal) diffs.push(`${name}: ${diff.summary}`);
          }
          return diffs;
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  }

  it('reads real driver change events end to end: updates raced by later writes, deletes, exact numbers, a dropped database', async () => {
    const p = await pipeline('shop');
    await p.streaming();
    const report = await runWorkload({ client, database: 'shop', collections: ['orders', 'users'], count: 300, seed: 3 });
    const coll = client.db('shop').collection<{ _id: string; [k: string]: unknown }>('prices');
    await coll.insertOne({ _id: 'p1', double: new Double(5), int: new Int32(5), long: Long.fromString('9007199254740993'), negativeZero: new Double(-0) });
    await p.drained(report.events + 1);
    const [lake, ...others] = await p.lake();
    expect(others).toEqual([]);
    expect(lake).toMatchObject({ stream: 'shop', events: report.events + 1, missing: 0, duplicates: 0, badObjects: [] });
    const { comparison, unknown } = await p.state();
    expect(unknown).toEqual([]);
    expect(comparison).toMatchObject({ equal: true, missing: 0, different: 0, extra: 0 });
    expect(comparison.documents).toBe(report.liveDocuments + 1);
    const price = (await readLakeEnvelopes(s3client, 'lake', 'shop/')).find((e) => e.collection === 'prices')!;
    expect(price.full_document).toContain('"double":{"$numberDouble":"5.0"},"int":{"$numberInt":"5"},"long":{"$numberLong":"9007199254740993"},"negativeZero":{"$numberDouble":"-0.0"}');
    // dropDatabase: events of no collection land under coll=__HIVE_DEFAULT_PARTITION__, never in an empty partition.
    await client.db('shop').dropDatabase();
    await eventually('the drop events in the lake', async () => (await readLakeEnvelopes(s3client, 'lake', 'shop/')).some((e) => e.operation === 'dropDatabase'), 30_000, 250);
    const drop = (await readLakeEnvelopes(s3client, 'lake', 'shop/')).find((e) => e.operation === 'dropDatabase')!;
    expect(drop).toMatchObject({ database: 'shop', collection: null });
    const keys = (await s3client.send(new (await import('@aws-sdk/client-s3')).ListObjectsV2Command({ Bucket: 'lake', Prefix: 'shop/' }))).Contents!.map((o) => o.Key!);
    expect(keys.some((k) => k.startsWith('shop/coll=__HIVE_DEFAULT_PARTITION__/'))).toBe(true);
    expect(keys.some((k) => k.includes('/coll=/') || k.includes('collection='))).toBe(false);
  }, 180_000);

  it('Redis failing over to a replica that lagged, while documents change: the replay converges, 0 lost, 0 duplicated, state equal', async () => {
    const p = await pipeline('lag');
    await p.streaming();
    const keys = new Redis(redis.url);
    try {
      const first = await runWorkload({ client, database: 'lag', collections: ['orders'], count: 120, seed: 5 });
      // The replica's view: taken now, atomically (what a lagging replica or an AOF without its
      // last second holds is a prefix of what was written).
      const snapshot = (await keys.callBuffer('EVAL', DUMP_ALL, '0', '{lag}*')) as unknown[];
      await p.drained(first.events);
      // Every document changes again: a replay's updateLookup now reads other versions than the
      // objects already in S3 hold, so rebuilt batches encode to other bytes.
      const orders = client.db('lag').collection('orders');
      const updated = await orders.updateMany({}, { $set: { changedAfterStore: true } });
      await p.drained(first.events + updated.modifiedCount);
      const before = (await p.lake())[0];
      // Fail over: everything written since the snapshot is gone.
      await restore(keys, '{lag}*', snapshot);
      const more = await runWorkload({ client, database: 'lag', collections: ['orders'], count: 30, seed: 6 });
      const total = first.events + updated.modifiedCount + more.events;
      await p.drained(total, 90_000);
      const [lake, ...others] = await p.lake();
      expect(others).toEqual([]); // the same generation
      expect(lake).toMatchObject({ events: total, maxSeq: total, missing: 0, duplicates: 0, badObjects: [] });
      expect(lake.objects).toBeGreaterThanOrEqual(before.objects);
      const { comparison, unknown } = await p.state();
      expect(unknown).toEqual([]);
      expect(comparison).toMatchObject({ equal: true, missing: 0, different: 0, extra: 0 });
      expect(await p.duckdbDiffs(lake.generation)).toEqual([]);
      const readerMetrics = await (await fetch(`http://127.0.0.1:${p.readerPort}/metrics`)).text();
      expect(readerMetrics).toMatch(/runnel_replays_total\{[^}]*\} [1-9]/);
    } finally {
      keys.disconnect();
    }
  }, 240_000);

  standInOnly('history lost with ON_HISTORY_LOST=latest: a new generation, and every later event reaches the lake under it', async () => {
    const p = await pipeline('hist', { ON_HISTORY_LOST: 'latest' });
    await p.streaming();
    const coll = client.db('hist').collection<{ _id: number; v: number }>('orders');
    for (let i = 0; i < 30; i++) await coll.insertOne({ _id: i, v: i });
    await p.drained(30);
    const g1 = (await p.ready())!.generation!;
    await p.reader.stop('SIGTERM');
    for (let i = 30; i < 50; i++) await coll.insertOne({ _id: i, v: i }); // the gap: gone from the oplog below
    mongo!.truncateOplog(1);
    await p.restartReader();
    await eventually('a new generation', async () => ((await p.ready())?.generation ?? g1) > g1, 30_000);
    await p.streaming();
    for (let i = 50; i < 75; i++) await coll.updateOne({ _id: i % 50 }, { $set: { v: -i } });
    await p.drained(25);
    const reports = await p.lake();
    expect(reports.map((r) => [r.generation, r.events, r.missing, r.duplicates])).toEqual([
      [g1, 30, 0, 0],
      [(await p.ready())!.generation, 25, 0, 0],
    ]);
  }, 180_000);

  /** `n` documents in `db.coll` with _ids of every common BSON type, in one insertMany per 500. */
  async function seed(db: string, coll: string, n: number): Promise<void> {
    const ids = (i: number): unknown => [new Int32(i), Long.fromNumber(10_000_000 + i), new Double(i + 0.25), `k${i}`, new ObjectId(i.toString(16).padStart(24, '0')), { a: i, b: 'x' }, new Date(i * 1000)][i % 7];
    for (let from = 0; from < n; from += 500) {
      await client.db(db).collection(coll).insertMany(Array.from({ length: Math.min(500, n - from) }, (_, k) => ({ _id: ids(from + k), i: from + k, pad: 'p'.repeat(50) })) as never[]);
    }
  }
  const snapshotRowsPerKey = async (db: string) => {
    const counts = new Map<string, number>();
    for (const e of await readLakeEnvelopes(s3client, 'lake', `${db}/`)) if (e.operation === 'snapshot') counts.set(`${e.generation}|${e.collection}|${e.document_key}`, (counts.get(`${e.generation}|${e.collection}|${e.document_key}`) ?? 0) + 1);
    return counts;
  };

  it('an initial snapshot (SNAPSHOT_MODE=initial): existing documents of mixed _id types as snapshot rows, writes during it, the reader killed -9 mid-snapshot: one row per document, every event once, state equal', async () => {
    await seed('snap', 'orders', 2500);
    await seed('snap', 'users', 700);
    const p = await pipeline('snap', { SNAPSHOT_MODE: 'initial', SNAPSHOT_CHUNK_SIZE: '100', BATCH_SIZE: '200', CHANNEL_BUFFER_SIZE: '600' });
    await p.streaming();
    // Writes while the snapshot runs: inserts, updates of rows already read and not yet read, deletes.
    const orders = client.db('snap').collection<{ _id: unknown; i: number }>('orders');
    const writes = (async () => {
      for (let i = 0; i < 60; i++) {
        await orders.updateOne({ i: (i * 41) % 2500 }, { $set: { touched: i } });
        if (i % 3 === 0) await orders.deleteOne({ i: 2499 - i });
        if (i % 5 === 0) await client.db('snap').collection('users').insertOne({ _id: `new${i}`, i: 10_000 + i } as never);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await eventually('the checkpoint inside the snapshot', async () => {
      const r = await p.ready();
      return r && (r.checkpoint_seq ?? 0) > 300 && r.snapshot?.phase === 'reading' ? r : undefined;
    }, 60_000, 50);
    await p.reader.stop('SIGKILL');
    await p.restartReader();
    await writes;
    await eventually('the snapshot handed over to the stream', async () => (await p.ready())?.snapshot?.phase === 'streaming', 60_000, 200).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await p.ready())}\n${p.reader.stdout.slice(-4000)}${p.reader.stderr.slice(-2000)}`);
    });
    // The restarted reader went on from its checkpoint's chunk (past 300 rows, so chunk 4 or later of
    // orders' 25 full ones and an empty last), not from the start: it emitted fewer than all of them.
    const ordersDone = (await p.ready())?.snapshot?.collections?.['snap.orders'];
    expect(ordersDone?.state).toBe('done');
    expect(ordersDone?.chunks).toBeLessThan(24);
    await client.db('snap').collection('users').insertOne({ _id: 'last', i: -1 } as never);
    await eventually('the last insert in the lake', async () => (await readLakeEnvelopes(s3client, 'lake', 'snap/')).some((e) => e.document_key === '{"_id":"last"}'), 60_000, 250);
    const [lake, ...others] = await p.lake();
    expect(others).toEqual([]);
    expect(lake).toMatchObject({ missing: 0, duplicates: 0, badObjects: [] });
    expect([...(await snapshotRowsPerKey('snap')).values()].filter((n) => n > 1)).toEqual([]);
    const { comparison, unknown } = await p.state();
    expect(unknown).toEqual([]);
    expect(comparison).toMatchObject({ equal: true, missing: 0, different: 0, extra: 0 });
    expect(await p.duckdbDiffs(lake.generation)).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${p.readerPort}/metrics`)).text();
    expect(metrics).toMatch(/runnel_snapshot_rows_total\{[^}]*collection="snap.users"[^}]*\} [1-9]/);
  }, 240_000);

  standInOnly('SNAPSHOT_MODE=when_needed after a forced 286: a new generation that snapshots again; nothing lost, no object of the old generation touched', async () => {
    await seed('needed', 'orders', 300);
    const p = await pipeline('needed', { SNAPSHOT_MODE: 'when_needed', SNAPSHOT_CHUNK_SIZE: '50' });
    await p.streaming();
    const coll = client.db('needed').collection<{ _id: unknown; i: number }>('orders');
    for (let i = 0; i < 20; i++) await coll.updateOne({ i }, { $set: { v: i } });
    await p.drained(320);
    const g1 = (await p.ready())!.generation!;
    const before = (await s3client.send(new (await import('@aws-sdk/client-s3')).ListObjectsV2Command({ Bucket: 'lake', Prefix: 'needed/' }))).Contents!.map((o) => `${o.Key}|${o.ETag}`);
    await p.reader.stop('SIGTERM');
    for (let i = 20; i < 40; i++) await coll.updateOne({ i }, { $set: { v: i } }); // the gap
    await coll.deleteOne({ i: 299 });
    mongo!.truncateOplog(1);
    await p.restartReader();
    await eventually('a new generation', async () => ((await p.ready())?.generation ?? g1) > g1, 30_000);
    await p.drained(299); // the second generation's snapshot: the 299 documents left
    await coll.updateOne({ i: 0 }, { $set: { v: 'after' } });
    await p.drained(300);
    const reports = await p.lake();
    const g2 = (await p.ready())!.generation!;
    expect(reports.map((r) => [r.generation, r.events, r.missing, r.duplicates])).toEqual([
      [g1, 320, 0, 0],
      [g2, 300, 0, 0],
    ]);
    const now = (await s3client.send(new (await import('@aws-sdk/client-s3')).ListObjectsV2Command({ Bucket: 'lake', Prefix: 'needed/' }))).Contents!.map((o) => `${o.Key}|${o.ETag}`);
    expect(now.filter((k) => before.includes(k)).sort()).toEqual([...before].sort()); // the old objects, unchanged
    expect(await p.duckdbDiffs(g2)).toEqual([]); // the gap is closed by the new generation's snapshot
  }, 180_000);

  it('SNAPSHOT_MODE=initial_only: the documents reach the lake, then the reader stops reading, stays ready and keeps the lease', async () => {
    await seed('only', 'orders', 250);
    const p = await pipeline('only', { SNAPSHOT_MODE: 'initial_only', SNAPSHOT_CHUNK_SIZE: '100' });
    await p.drained(250);
    await eventually('snapshot_complete', async () => (await p.ready())?.state === 'snapshot_complete', 30_000, 100);
    const res = await fetch(`http://127.0.0.1:${p.readerPort}/ready`);
    expect(res.status).toBe(200);
    await client.db('only').collection('orders').insertOne({ _id: 'after', i: -1 } as never);
    await new Promise((r) => setTimeout(r, 2000));
    const [lake, ...others] = await p.lake();
    expect(others).toEqual([]);
    expect(lake).toMatchObject({ events: 250, missing: 0, duplicates: 0 });
    expect((await readLakeEnvelopes(s3client, 'lake', 'only/')).every((e) => e.operation === 'snapshot')).toBe(true);
    expect(await (await fetch(`http://127.0.0.1:${p.readerPort}/metrics`)).text()).toMatch(/runnel_lease_holder\{[^}]*stream="only"[^}]*\} 1/);
  }, 120_000);

  it('an on-demand re-snapshot of one collection (npm run snapshot) during live writes, the reader killed -9 inside it: one row per document, every event once, state equal', async () => {
    await seed('resnap', 'orders', 1500);
    const p = await pipeline('resnap', { SNAPSHOT_MODE: 'never', SNAPSHOT_CHUNK_SIZE: '100', BATCH_SIZE: '100' });
    await p.streaming();
    const orders = client.db('resnap').collection<{ _id: unknown; i: number }>('orders');
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) {
        await orders.updateOne({ i: (i * 37) % 1500 }, { $set: { touched: i } });
        if (i % 4 === 0) await orders.deleteOne({ i: 1499 - i });
        if (i % 6 === 0) await orders.insertOne({ _id: `live${i}`, i: 100_000 + i } as never);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const cli = spawnSync(process.execPath, ['tools/dev/run-ts.mjs', 'tools/ops/snapshot.ts', 'resnap.orders'], { cwd: join(__dirname, '../..'), env: { ...process.env, REDIS_URL: redis.url, QUEUE_PREFIX: '{resnap}' }, encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const requestsRedis = new Redis(redis.url);
    openRedis.push(requestsRedis);
    const requests = new ResnapshotRequests(requestsRedis, '{resnap}', 'resnap');
    const state = async () => (await requests.all())[0];
    await eventually('the re-snapshot under way', async () => {
      const r = await p.ready();
      return (await state())?.startedAfter && (r?.snapshot?.rows ?? 0) > 300;
    }, 60_000, 50).catch(async (err: Error) => {
      writing = false;
      throw new Error(`${err.message}: ${JSON.stringify(await state())} ${JSON.stringify(await p.ready())}\n${p.reader.stdout.slice(-4000)}${p.reader.stderr.slice(-2000)}`);
    });
    await p.reader.stop('SIGKILL');
    await p.restartReader();
    await eventually('the re-snapshot done', async () => (await state())?.doneAt !== undefined, 90_000, 200).catch(async (err: Error) => {
      writing = false;
      throw new Error(`${err.message}: ${JSON.stringify(await state())} ${JSON.stringify(await p.ready())}\n${p.reader.stdout.slice(-4000)}${p.reader.stderr.slice(-2000)}`);
    });
    writing = false;
    await writes;
    await orders.insertOne({ _id: 'last', i: -1 } as never);
    await eventually('the last insert in the lake', async () => (await readLakeEnvelopes(s3client, 'lake', 'resnap/')).some((e) => e.document_key === '{"_id":"last"}'), 60_000, 250);
    const readSeq = (await p.ready())?.read_seq;
    if (readSeq === undefined) throw new Error('the reader reports no read_seq');
    await p.drained(readSeq); // everything read is stored
    const [lake, ...others] = await p.lake();
    expect(others).toEqual([]);
    expect(lake).toMatchObject({ missing: 0, duplicates: 0, badObjects: [] });
    expect([...(await snapshotRowsPerKey('resnap')).values()].filter((n) => n > 1)).toEqual([]);
    expect((await snapshotRowsPerKey('resnap')).size).toBeGreaterThan(1000);
    // The documents never changed since before the pipeline started are only in the lake through the re-snapshot.
    expect(await p.duckdbDiffs(lake.generation)).toEqual([]);
    const { comparison } = await p.state();
    expect(comparison).toMatchObject({ equal: true, missing: 0, different: 0, extra: 0 });
  }, 240_000);

  it('a change event above 16 MB reaches the lake whole (OVERSIZE_EVENTS=split, the default)', async () => {
    const p = await pipeline('big');
    await p.streaming();
    const coll = client.db('big').collection<{ _id: number; [k: string]: unknown }>('docs');
    await coll.insertOne({ _id: 1, a: 'a'.repeat(8_000_000) });
    await coll.updateOne({ _id: 1 }, { $set: { b: 'b'.repeat(8_000_000) } }); // fullDocument 16 MB + updatedFields 8 MB
    await coll.insertOne({ _id: 2, small: true });
    await p.drained(3, 90_000);
    const events = await readLakeEnvelopes(s3client, 'lake', 'big/');
    expect(events.map((e) => [e.seq, e.operation])).toEqual([
      [1, 'insert'],
      [2, 'update'],
      [3, 'insert'],
    ]);
    expect(events[1].full_document!.length).toBeGreaterThan(16_000_000);
    expect(events[1].update_description!.length).toBeGreaterThan(8_000_000);
  }, 180_000);
});

/** Every key matching ARGV[1] as (key, DUMP, PTTL) triples, in one script: an atomic snapshot. */
const DUMP_ALL =
  "local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do table.insert(out, k) table.insert(out, redis.call('DUMP', k)) table.insert(out, redis.call('PTTL', k)) end return out";

/** Puts back what DUMP_ALL dumped (key, DUMP, PTTL triples), over whatever is there now, in one script. */
async function restore(redis: Redis, pattern: string, dumped: unknown[]): Promise<void> {
  const args: (string | Buffer | number)[] = [];
  for (let i = 0; i < dumped.length; i += 3) args.push(String(dumped[i]), dumped[i + 1] as Buffer, Math.max(0, Number(String(dumped[i + 2]))));
  await redis.eval(
    "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end for i = 2, #ARGV, 3 do redis.call('RESTORE', ARGV[i], ARGV[i + 2], ARGV[i + 1], 'REPLACE') end return 1",
    0,
    pattern,
    ...args,
  );
}

