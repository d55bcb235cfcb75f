import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisServer } from '@runnel/testing';
import { CheckpointStore } from './checkpoint-store';
import { FencedError } from './fenced-error';
import { StreamLease } from './stream-lease';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** A fresh prefix per test, as BullMQ's tests use a fresh queue name: no state leaks between tests. */
function fresh() {
  const prefix = `{t-${randomUUID()}}`;
  return { prefix, store: new CheckpointStore(redis, { prefix, ttlMs: 60_000 }) };
}
const tok = (n: number) => ({ _data: `tok-${n}` });

describe('CheckpointStore watermark', () => {
  const S = 'db';
  /** Opens and cuts a batch of `collection` covering [a, b]; the token before it is tok(a - 1). */
  async function batch(store: CheckpointStore, collection: string, a: number, b: number, fence?: number): Promise<string> {
    const id = await store.open(S, { collection, seqStart: a, tokenBefore: tok(a - 1), clusterTimeBefore: `${a - 1}.0` }, fence);
    await store.cut(S, id, { seqEnd: b, token: tok(b), clusterTime: `${b}.0` }, fence);
    return id;
  }

  it('has no checkpoint before anything is stored', async () => {
    const { store } = fresh();
    expect(await store.load(S)).toBeUndefined();
  });

  it('advances only as far as the first batch not yet stored, whatever order batches complete in', async () => {
    const { store } = fresh();
    const b1 = await batch(store, 'c', 1, 10);
    const b2 = await batch(store, 'c', 11, 20);
    const b3 = await batch(store, 'c', 21, 30);
    expect(await store.complete(S, b3)).toBe(0); // 1..20 not stored: the checkpoint stays before event 1
    expect(await store.load(S)).toMatchObject({ seq: 0, token: tok(0) });
    expect(await store.complete(S, b2)).toBe(0);
    expect(await store.complete(S, b1)).toBe(30); // 1..30 all stored
    expect(await store.load(S)).toMatchObject({ token: tok(30), seq: 30, clusterTime: '30.0' });
    expect(await store.records(S)).toEqual([]);
  });

  it('with interleaved collections, never passes an event of a batch that is not stored', async () => {
    // A database-scope stream: orders get seq 1,3,5,…; users get 2,4,6,…
    const { store } = fresh();
    const orders = await batch(store, 'orders', 1, 9);
    const users = await batch(store, 'users', 2, 10);
    expect(await store.complete(S, orders)).toBe(1); // event 2 (users) is not stored
    expect(await store.load(S)).toMatchObject({ seq: 1, token: tok(1) });
    expect(await store.complete(S, users)).toBe(10);
  });

  it('events still buffered in an open batch hold the checkpoint back', async () => {
    const { store } = fresh();
    const a = await batch(store, 'orders', 1, 5);
    await store.open(S, { collection: 'users', seqStart: 6, tokenBefore: tok(5) });
    expect(await store.complete(S, a)).toBe(5);
    expect(await store.advanceIdle(S, 8, { _data: 'pbrt' })).toBe(false); // users' batch still open
    expect((await store.load(S))!.seq).toBe(5);
  });

  it('keeps done records above the checkpoint (a replay skips them) and drops those below it', async () => {
    const { store } = fresh();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await batch(store, 'c', i * 10 + 1, i * 10 + 10));
    for (const i of [0, 1, 3, 4]) await store.complete(S, ids[i]);
    expect((await store.load(S))!.seq).toBe(20);
    expect((await store.records(S)).map((r) => [r.id, r.state])).toEqual([
      ['c@21', 'cut'],
      ['c@31', 'done'],
      ['c@41', 'done'],
    ]);
    expect((await store.records(S)).filter((r) => r.state !== 'done')).toHaveLength(1);
    await store.complete(S, ids[2]);
    expect((await store.load(S))!.seq).toBe(50);
    expect(await store.records(S)).toEqual([]);
  });

  it('is safe under concurrent completions from parallel uploaders', async () => {
    const { store, prefix } = fresh();
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await batch(store, i % 2 ? 'a' : 'b', i + 1, i + 1));
    const shuffled = [...ids].sort(() => Math.random() - 0.5);
    const conns = Array.from({ length: 8 }, () => new Redis(server.url));
    try {
      const stores = conns.map((c) => new CheckpointStore(c, { prefix, ttlMs: 60_000 }));
      await Promise.all(shuffled.map((id, i) => stores[i % stores.length].complete(S, id)));
    } finally {
      conns.forEach((c) => c.disconnect());
    }
    expect(await store.load(S)).toMatchObject({ seq: 200, token: tok(200) });
    expect(await store.records(S)).toEqual([]);
  });

  it('completing twice (a retried upload), an open batch or an unknown id changes nothing', async () => {
    const { store } = fresh();
    const b1 = await batch(store, 'c', 1, 5);
    expect(await store.complete(S, b1)).toBe(5);
    expect(await store.complete(S, b1)).toBe(5);
    expect(await store.complete(S, 'c@99')).toBe(5);
    const open = await store.open(S, { collection: 'c', seqStart: 6, tokenBefore: tok(5) });
    expect(await store.complete(S, open)).toBe(5);
    expect((await store.records(S))[0].state).toBe('open');
  });

  it('idle: a post-batch token becomes the checkpoint once nothing is open or waiting', async () => {
    const { store } = fresh();
    const b1 = await batch(store, 'c', 1, 3);
    expect(await store.advanceIdle(S, 4, { _data: 'pbrt-1' }, '200.0')).toBe(false);
    await store.complete(S, b1);
    expect(await store.advanceIdle(S, 4, { _data: 'pbrt-1' }, '200.0')).toBe(true);
    expect(await store.load(S)).toMatchObject({ token: { _data: 'pbrt-1' }, seq: 3, clusterTime: '200.0' });
    expect(await store.advanceIdle(S, 4, { _data: 'pbrt-2' }, '201.0')).toBe(true); // fresher token, same position
    expect(await store.load(S)).toMatchObject({ token: { _data: 'pbrt-2' }, seq: 3 });
    const b2 = await batch(store, 'c', 4, 6);
    await store.complete(S, b2);
    expect(await store.load(S)).toMatchObject({ token: tok(6), seq: 6 });
  });

  it('sets a TTL on the state', async () => {
    const { store, prefix } = fresh();
    await store.complete(S, await batch(store, 'c', 1, 1));
    const ttl = await redis.pttl(`${prefix}:ckpt:${S}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('refuses writes with a stale fencing token', async () => {
    const { store, prefix } = fresh();
    const a = new StreamLease(redis, { prefix, stream: S, holder: 'reader-a', ttlMs: 100 });
    const fenceA = (await a.tryAcquire())!;
    await batch(store, 'c', 1, 1, fenceA);
    await new Promise((r) => setTimeout(r, 150)); // a stalls past its TTL
    const b = new StreamLease(redis, { prefix, stream: S, holder: 'reader-b', ttlMs: 10_000 });
    const fenceB = (await b.tryAcquire())!;
    expect(fenceB).toBeGreaterThan(fenceA);
    await expect(batch(store, 'c', 2, 2, fenceA)).rejects.toBeInstanceOf(FencedError);
    await expect(store.advanceIdle(S, 3, tok(2), undefined, fenceA)).rejects.toBeInstanceOf(FencedError);
    await batch(store, 'c', 2, 2, fenceB);
  });
});

describe('StreamLease', () => {
  it('one holder at a time; renew keeps it; the standby takes over after the holder dies', async () => {
    const { prefix } = fresh();
    const opts = { prefix, stream: 'db.c', ttlMs: 300 };
    const active = new StreamLease(redis, { ...opts, holder: 'pod-a' });
    const standby = new StreamLease(redis, { ...opts, holder: 'pod-b' });
    expect(await active.tryAcquire()).toBe(1);
    expect(await standby.tryAcquire()).toBeUndefined();
    expect(await active.currentHolder()).toBe('pod-a');
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      expect(await active.renew()).toBe(true);
      expect(await standby.tryAcquire()).toBeUndefined();
    }
    // pod-a dies: no more renewals. The standby gets it within the TTL (polled, generously bounded).
    let fence: number | undefined;
    for (let i = 0; i < 100 && fence === undefined; i++) {
      fence = await standby.tryAcquire();
      if (fence === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    expect(fence).toBe(2);
    expect(await standby.currentHolder()).toBe('pod-b');
    expect(await active.renew()).toBe(false);
    expect(active.held).toBe(false);
  });

  it('release hands the lease over at once, and only the holder can release', async () => {
    const { prefix } = fresh();
    const opts = { prefix, stream: 'db.c', ttlMs: 60_000 };
    const a = new StreamLease(redis, { ...opts, holder: 'a' });
    const b = new StreamLease(redis, { ...opts, holder: 'b' });
    await a.tryAcquire();
    await b.release(); // not the holder: no effect
    expect(await b.tryAcquire()).toBeUndefined();
    await a.release();
    expect(await b.tryAcquire()).toBe(2);
  });
});
