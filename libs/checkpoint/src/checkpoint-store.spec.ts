import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisServer } from '@runnel/testing';
import { CheckpointStore } from './checkpoint-store';
import { FencedError } from './fenced-error';
import { LeaseLostError, type LeaseTerm } from './lease-term';
import { GenerationChangedError, StateLostError } from './state-errors';
import { StreamLease } from './stream-lease';
import type { StreamWriter } from './stream-writer';

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

const S = 'db';
const terms: LeaseTerm[] = [];
afterEach(async () => {
  await Promise.all(terms.splice(0).map((t) => t.release()));
});

/** A fresh prefix per test, as BullMQ's tests use a fresh queue name: no state leaks between tests. */
async function fresh(ttlMs = 60_000) {
  const prefix = `{t-${randomUUID()}}`;
  const store = new CheckpointStore(redis, { prefix, ttlMs });
  const lease = new StreamLease(redis, { prefix, stream: S, holder: 'reader-a', ttlMs: 10_000 });
  const term = (await lease.acquire())!;
  terms.push(term);
  const writer = store.writer(term);
  const gen = await writer.startGeneration(undefined, 'new stream');
  return { prefix, store, lease, term, writer, gen };
}

const tok = (n: number) => ({ _data: `tok-${n}` });

/** Opens and cuts a batch of `collection` covering [a, b]; the token before it is tok(a - 1). */
async function batch(w: StreamWriter, gen: number, collection: string, a: number, b: number): Promise<string> {
  const id = CheckpointStore.batchId(gen, `shop.${collection}`, a);
  await w.open(gen, { id, database: 'shop', collection, seqStart: a, tokenBefore: tok(a - 1), clusterTimeBefore: `${a - 1}.0` });
  await w.cut(gen, id, { seqEnd: b, token: tok(b), clusterTime: `${b}.0` });
  return id;
}

describe('CheckpointStore watermark', () => {
  it('a new generation has a checkpoint at seq 0 with no position yet (read from now)', async () => {
    const { store, gen } = await fresh();
    expect(gen).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 5);
    expect(await store.load(S)).toMatchObject({ generation: gen, seq: 0, token: undefined });
    expect(await store.generation(S)).toMatchObject({ generation: gen, reason: 'new stream' });
  });

  it('advances only as far as the first batch not yet stored, whatever order batches complete in', async () => {
    const { store, writer: w, gen } = await fresh();
    const b1 = await batch(w, gen, 'c', 1, 10);
    const b2 = await batch(w, gen, 'c', 11, 20);
    const b3 = await batch(w, gen, 'c', 21, 30);
    expect(await store.complete(S, b3)).toBe(0); // 1..20 not stored: the checkpoint stays before event 1
    expect(await store.complete(S, b2)).toBe(0);
    expect(await store.complete(S, b1)).toBe(30); // 1..30 all stored
    expect(await store.load(S)).toMatchObject({ generation: gen, token: tok(30), seq: 30, clusterTime: '30.0' });
    expect(await store.records(S)).toEqual([]);
  });

  it('with interleaved collections, never passes an event of a batch that is not stored', async () => {
    // A database-scope stream: orders get seq 1,3,5,…; users get 2,4,6,…
    const { store, writer: w, gen } = await fresh();
    const orders = await batch(w, gen, 'orders', 1, 9);
    const users = await batch(w, gen, 'users', 2, 10);
    expect(await store.complete(S, orders)).toBe(1); // event 2 (users) is not stored
    expect(await store.load(S)).toMatchObject({ seq: 1, token: tok(1) });
    expect(await store.complete(S, users)).toBe(10);
  });

  it('events still buffered in an open batch hold the checkpoint back', async () => {
    const { store, writer: w, gen } = await fresh();
    const a = await batch(w, gen, 'orders', 1, 5);
    await w.open(gen, { id: CheckpointStore.batchId(gen, 'shop.users', 6), database: 'shop', collection: 'users', seqStart: 6, tokenBefore: tok(5) });
    expect(await store.complete(S, a)).toBe(5);
    expect(await w.advanceIdle(gen, 8, { _data: 'pbrt' })).toBe(false); // users' batch still open
    expect((await store.load(S))!.seq).toBe(5);
  });

  it('keeps done records above the checkpoint (a replay skips them) and drops those below it', async () => {
    const { store, writer: w, gen } = await fresh();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await batch(w, gen, 'c', i * 10 + 1, i * 10 + 10));
    for (const i of [0, 1, 3, 4]) await store.complete(S, ids[i]);
    expect((await store.load(S))!.seq).toBe(20);
    expect((await store.records(S)).map((r) => [r.id, r.state])).toEqual([
      [`${gen}:shop.c@21`, 'cut'],
      [`${gen}:shop.c@31`, 'done'],
      [`${gen}:shop.c@41`, 'done'],
    ]);
    await store.complete(S, ids[2]);
    expect((await store.load(S))!.seq).toBe(50);
    expect(await store.records(S)).toEqual([]);
  });

  it('is safe under concurrent completions from parallel uploaders', async () => {
    const { store, writer: w, gen, prefix } = await fresh();
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await batch(w, gen, i % 2 ? 'a' : 'b', i + 1, i + 1));
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
    const { store, writer: w, gen } = await fresh();
    const b1 = await batch(w, gen, 'c', 1, 5);
    expect(await store.complete(S, b1)).toBe(5);
    expect(await store.complete(S, b1)).toBe(5);
    expect(await store.complete(S, `${gen}:shop.c@99`)).toBe(5);
    const open = CheckpointStore.batchId(gen, 'shop.c', 6);
    await w.open(gen, { id: open, database: 'shop', collection: 'c', seqStart: 6, tokenBefore: tok(5) });
    expect(await store.complete(S, open)).toBe(5);
    expect((await store.records(S))[0].state).toBe('open');
  });

  it('idle: a post-batch token becomes the checkpoint once nothing is open or waiting', async () => {
    const { store, writer: w, gen } = await fresh();
    expect(await w.advanceIdle(gen, 1, { _data: 'pbrt-0' }, '199.0')).toBe(true); // the position before event 1
    const b1 = await batch(w, gen, 'c', 1, 3);
    expect(await w.advanceIdle(gen, 4, { _data: 'pbrt-1' }, '200.0')).toBe(false);
    await store.complete(S, b1);
    expect(await w.advanceIdle(gen, 4, { _data: 'pbrt-1' }, '200.0')).toBe(true);
    expect(await store.load(S)).toMatchObject({ token: { _data: 'pbrt-1' }, seq: 3, clusterTime: '200.0' });
    expect(await w.advanceIdle(gen, 4, { _data: 'pbrt-2' }, '201.0')).toBe(true); // fresher token, same position
    const b2 = await batch(w, gen, 'c', 4, 6);
    await store.complete(S, b2);
    expect(await store.load(S)).toMatchObject({ token: tok(6), seq: 6 });
  });

  it('sets a TTL on the checkpoint, but not on the generation record (which tells an expiry from a new stream)', async () => {
    const { store, writer: w, gen, prefix } = await fresh();
    await store.complete(S, await batch(w, gen, 'c', 1, 1));
    const ttl = await redis.pttl(`${prefix}:ckpt:${S}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.pttl(`${prefix}:stream:${S}`)).toBe(-1);
  });
});

describe('an expired checkpoint', () => {
  it('is not recreated by a late completion (it would have no generation): it stays missing for the reader to see', async () => {
    const { store, writer: w, gen, prefix } = await fresh();
    const b = await batch(w, gen, 'c', 1, 5);
    await redis.del(`${prefix}:ckpt:${S}`); // the TTL ran out (pending and meta linger a moment)
    expect(await store.complete(S, b)).toBeUndefined();
    expect(await store.load(S)).toBeUndefined();
    expect(await store.generation(S)).toMatchObject({ generation: gen });
  });
});

describe('generations', () => {
  it('a new generation starts above the old one, drops its state, and old batch ids cannot touch it', async () => {
    const { store, writer: w, gen } = await fresh();
    const old = await batch(w, gen, 'c', 1, 10);
    const next = await w.startGeneration(gen, 'history lost');
    expect(next).toBeGreaterThan(gen);
    expect(await store.load(S)).toMatchObject({ generation: next, seq: 0, token: undefined });
    expect(await store.records(S)).toEqual([]);
    // A late completion of the old generation's batch (an uploader that was slow) changes nothing.
    expect(await store.complete(S, old)).toBe(0);
    const fresh1 = await batch(w, next, 'c', 1, 10);
    expect(fresh1).not.toBe(old);
    expect(await store.complete(S, fresh1)).toBe(10);
  });

  it('refuses writes for a generation the stream has left, and a new generation from a stale view', async () => {
    const { writer: w, gen } = await fresh();
    const next = await w.startGeneration(gen, 'operator reset');
    await expect(batch(w, gen, 'c', 1, 1)).rejects.toBeInstanceOf(GenerationChangedError);
    await expect(w.startGeneration(gen, 'again')).rejects.toBeInstanceOf(GenerationChangedError);
    await batch(w, next, 'c', 1, 1);
  });
});

describe('fencing: every reader write needs a held lease', () => {
  it('a reader whose lease lapsed is refused on every write, a new generation included', async () => {
    const prefix = `{t-${randomUUID()}}`;
    const store = new CheckpointStore(redis, { prefix, ttlMs: 60_000 });
    const a = new StreamLease(redis, { prefix, stream: S, holder: 'reader-a', ttlMs: 300 });
    const termA = (await a.acquire())!;
    terms.push(termA);
    const wa = store.writer(termA);
    const gen = await wa.startGeneration(undefined, 'new stream');
    await batch(wa, gen, 'c', 1, 1);
    // a stalls past its TTL (no renewal: the event loop is blocked, as by a long GC or SIGSTOP)
    await redis.pexpire(`${prefix}:lease:${S}`, 1);
    await new Promise((r) => setTimeout(r, 20));
    const b = new StreamLease(redis, { prefix, stream: S, holder: 'reader-b', ttlMs: 10_000 });
    const termB = (await b.acquire())!;
    terms.push(termB);
    expect(termB.fence).toBeGreaterThan(termA.fence);
    await expect(batch(wa, gen, 'c', 2, 2)).rejects.toBeInstanceOf(FencedError);
    await expect(wa.advanceIdle(gen, 3, tok(2))).rejects.toBeInstanceOf(FencedError);
    await expect(wa.startGeneration(gen, 'reset')).rejects.toBeInstanceOf(FencedError);
    expect((await store.load(S))!.generation).toBe(gen); // the successor's state is untouched
    const wb = store.writer(termB);
    await batch(wb, gen, 'c', 2, 2);
  });

  it('the term signal aborts with LeaseLostError when the lease is taken over', async () => {
    const prefix = `{t-${randomUUID()}}`;
    const a = new StreamLease(redis, { prefix, stream: S, holder: 'a', ttlMs: 150 });
    const term = (await a.acquire())!;
    terms.push(term);
    await redis.set(`${prefix}:lease:${S}`, 'b'); // taken over
    await new Promise<void>((resolve) => term.signal.addEventListener('abort', () => resolve(), { once: true }));
    expect(term.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(term.lost).toBe(true);
  });
});

describe('lost writes (Redis restarted without fsync, or failed over to a lagging replica)', () => {
  /** Redis state as it was: every key of the prefix dumped, then restored over the newer state. */
  async function snapshot(prefix: string): Promise<() => Promise<void>> {
    const keys = await redis.keys(`${prefix}*`);
    const dumps = await Promise.all(keys.map(async (k) => [k, await redis.dumpBuffer(k), await redis.pttl(k)] as const));
    return async () => {
      const now = await redis.keys(`${prefix}*`);
      if (now.length) await redis.del(...now);
      for (const [k, d, ttl] of dumps) if (d) await redis.restore(k, ttl > 0 ? ttl : 0, d);
    };
  }

  it('the next write of the term fails with StateLostError instead of building on state Redis forgot', async () => {
    const { writer: w, gen, prefix, store } = await fresh();
    await batch(w, gen, 'c', 1, 5);
    const rollBack = await snapshot(prefix);
    await batch(w, gen, 'c', 6, 10); // lost below
    await rollBack();
    expect((await store.records(S)).map((r) => r.seqStart)).toEqual([1]);
    const lost = await batch(w, gen, 'c', 11, 12).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(StateLostError);
    expect((lost as Error).message).toMatch(/\[runnelOpenBatch: expected term \d+:5, Redis has \d+:3\]/);
  });

  it('a lease acquired again after the loss starts a clean term', async () => {
    const { gen, prefix, store, term } = await fresh();
    await term.release();
    const lease = new StreamLease(redis, { prefix, stream: S, holder: 'reader-a', ttlMs: 10_000 });
    const again = (await lease.acquire())!;
    terms.push(again);
    await batch(store.writer(again), gen, 'c', 1, 1);
  });
});

describe('StreamLease', () => {
  it('one holder at a time; the standby takes over after the holder dies', async () => {
    const prefix = `{t-${randomUUID()}}`;
    const opts = { prefix, stream: 'db.c', ttlMs: 300 };
    const active = new StreamLease(redis, { ...opts, holder: 'pod-a' });
    const standby = new StreamLease(redis, { ...opts, holder: 'pod-b' });
    const term = (await active.acquire())!;
    expect(term.fence).toBe(1);
    expect(await standby.acquire()).toBeUndefined();
    expect(await active.currentHolder()).toBe('pod-a');
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 100)); // the term renews by itself
      expect(await standby.acquire()).toBeUndefined();
    }
    // pod-a stalls past its TTL: the lease expires, its next renewal is refused and its term ends.
    await redis.pexpire(`${prefix}:lease:db.c`, 1);
    let next: LeaseTerm | undefined;
    for (let i = 0; i < 100 && next === undefined; i++) {
      next = await standby.acquire();
      if (next === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    terms.push(next!);
    expect(next!.fence).toBe(2);
    expect(await standby.currentHolder()).toBe('pod-b');
    expect(await active.renew()).toBe(false);
  });

  it('release hands the lease over at once, and only the holder can release', async () => {
    const prefix = `{t-${randomUUID()}}`;
    const opts = { prefix, stream: 'db.c', ttlMs: 60_000 };
    const a = new StreamLease(redis, { ...opts, holder: 'a' });
    const b = new StreamLease(redis, { ...opts, holder: 'b' });
    const ta = (await a.acquire())!;
    await b.release(); // not the holder: no effect
    expect(await b.acquire()).toBeUndefined();
    await ta.release();
    const tb = (await b.acquire())!;
    terms.push(tb);
    expect(tb.fence).toBe(2);
  });
});
