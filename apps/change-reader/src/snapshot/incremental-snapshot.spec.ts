import { EJSON } from 'bson';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { ResnapshotRequests } from '@runnel/checkpoint';
import { Secret } from '@runnel/config';
import { createLogger } from '@runnel/telemetry';
import { MongoStandIn, RedisServer } from '@runnel/testing';
import type { SourceItem } from '../sources/change-source';
import { MongoChangeSource } from '../sources/mongodb-source';
import { positionKey, redisDropSets, resnapshotStateOf, streamTokenOf, withResnapshot } from './incremental-snapshot';
import { redisFirstWriteStore, SnapshotChunks } from './snapshot-chunks';
import { SnapshotProgress } from './snapshot-progress';
import { SnapshotSource } from './snapshot-source';

/** The on-demand re-snapshot's window, through the real driver on the MongoDB stand-in, its state in a real Redis. */
describe('IncrementalSnapshot', () => {
  let mongo: MongoStandIn;
  let redisServer: RedisServer;
  let redis: Redis;
  let client: MongoClient;
  let n = 0;
  const logger = createLogger({ service: 'incremental-spec', level: 'silent' });

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

  function setup(database: string, prefix = `{inc${++n}}`) {
    const inner = new MongoChangeSource({ uri: new Secret(mongo.uri), database, collections: [], fullDocument: 'updateLookup', fullDocumentBeforeChange: 'off', pipeline: [], maxAwaitTimeMS: 100, idleRepeatMs: 200 });
    const requests = new ResnapshotRequests(redis, prefix, inner.stream);
    const source = new SnapshotSource({
      inner, mode: 'never', chunkSize: 100, parallelism: 1,
      chunks: new SnapshotChunks(redisFirstWriteStore(redis), prefix, inner.stream), progress: new SnapshotProgress(inner.stream), logger,
      incremental: { requests, drops: redisDropSets(redis), prefix },
    });
    return { source, requests, prefix };
  }

  /** Items of a read from `token` until `stop`. */
  async function replay(database: string, prefix: string, token: Record<string, unknown>, stop: (items: SourceItem[]) => boolean): Promise<SourceItem[]> {
    const { source } = setup(database, prefix);
    const ac = new AbortController();
    const out: SourceItem[] = [];
    for await (const item of source.read({ token }, ac.signal)) {
      out.push(item);
      if (stop(out)) break;
    }
    ac.abort();
    return out;
  }
  const describeItem = (i: SourceItem) => (i.type === 'change' ? `${i.change.operationType}:${EJSON.stringify(i.change.documentKey?._id ?? null, { relaxed: true })}` : i.type);

  it('tokens carry the state; the stream token MongoDB gets has none of it', () => {
    const t = withResnapshot({ _data: '82AB' }, { id: 'r1', namespace: 'db.c', after: null, nsRow: 0 });
    expect(resnapshotStateOf(t)).toMatchObject({ id: 'r1', namespace: 'db.c' });
    expect(streamTokenOf(t)).toEqual({ _data: '82AB' });
    expect(positionKey(t)).toBe(positionKey({ _data: '82AB' }));
  });

  it('a write between the chunk read and its high watermark drops that row: the event stays the latest version in the stream', async () => {
    const database = `inc${n + 1}`;
    const coll = client.db(database).collection<{ _id: number; v: string }>('c');
    await coll.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, v: 'seeded' })));
    const { source, requests, prefix } = setup(database);
    const ac = new AbortController();
    const it = source.read(undefined, ac.signal, { fresh: 'new stream' })[Symbol.asyncIterator]();
    const items: SourceItem[] = [];
    const next = async () => {
      const r = await it.next();
      if (!r.done) items.push(r.value);
      return r;
    };
    try {
      await next(); // the first position
      await requests.request(`${database}.c`);
      // The high watermark is the operationTime of a ping after the find: delay that ping, and write
      // to a row of the chunk meanwhile — after the read, before the watermark.
      await client.db('admin').command({ runnelFault: { command: 'ping', delayMs: 600, times: 1 } });
      await coll.insertOne({ _id: 1000, v: 'trigger' });
      await next(); // the insert; the next pull takes the request up and reads the chunk
      const pulling = next();
      await new Promise((r) => setTimeout(r, 250));
      await coll.updateOne({ _id: 7 }, { $set: { v: 'changed inside the window' } });
      await pulling;
      await coll.insertOne({ _id: 1001, v: 'after' }); // moves the stream past the watermark
      while (!items.some((i) => describeItem(i) === 'insert:1001')) await next();
    } finally {
      ac.abort();
      await it.return?.();
    }
    const order = items.map(describeItem);
    const rows = order.filter((x) => x.startsWith('snapshot:'));
    expect(rows).not.toContain('snapshot:7');
    expect(rows).toHaveLength(50); // 0..49 without 7, and 1000 (inserted before the read)
    expect(order.indexOf('update:7')).toBeLessThan(order.indexOf(rows[0]));
    expect(order.indexOf('insert:1001')).toBeGreaterThan(order.lastIndexOf(rows.at(-1)!));
    // Tokens after the start carry the snapshot's state; the rows' also say which row they are.
    const firstRow = items.find((i) => i.type === 'change' && i.change.operationType === 'snapshot');
    expect(resnapshotStateOf(firstRow?.type === 'change' ? firstRow.token : undefined)).toMatchObject({ namespace: `${database}.c`, after: null, row: 0 });
    expect((await requests.all())[0]).toMatchObject({ startedAfter: expect.any(String), doneAt: expect.any(String) });

    // Replays converge: from the start position (a checkpoint before the snapshot began), from
    // inside the window (after the event that dropped row 7: the drop set remembers it), and from
    // the middle of the rows, a reader emits the same rows in the same place.
    const tokenOf = (label: string) => {
      const i = items.find((x) => describeItem(x) === label);
      return i && i.type !== 'snapshot-complete' ? i.token : {};
    };
    const tail = (from: string) => order.slice(order.indexOf(from) + 1, order.indexOf('insert:1001') + 1);
    const until1001 = (got: SourceItem[]) => got.some((i) => describeItem(i) === 'insert:1001');
    for (const from of ['insert:1000', 'update:7', rows[10]]) {
      const again = (await replay(database, prefix, tokenOf(from), until1001)).map(describeItem);
      expect({ from, again }).toEqual({ from, again: tail(from) });
    }
  });

  it('a request for a collection the stream does not watch is refused, with the reason', async () => {
    const database = `inc${n + 1}`;
    const { source, requests } = setup(database);
    await client.db(database).collection('c').insertOne({ _id: 1 } as never);
    const ac = new AbortController();
    const it = source.read(undefined, ac.signal, { fresh: 'new stream' })[Symbol.asyncIterator]();
    try {
      await it.next();
      await requests.request('elsewhere.c');
      await client.db(database).collection('c').insertOne({ _id: 2 } as never);
      await it.next();
      await it.next();
    } finally {
      ac.abort();
      await it.return?.();
    }
    expect((await requests.all())[0]).toMatchObject({ namespace: 'elsewhere.c', refused: expect.stringContaining('does not watch elsewhere.c') });
  });
});
