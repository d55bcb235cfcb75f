import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisServer } from '@runnel/testing';
import { type CallerLimiter, LimiterUnavailableError, type SlotHeld } from './caller-limiter';
import { MemoryCallerLimiter } from './memory-caller-limiter';
import { RedisCallerLimiter } from './redis-caller-limiter';

let server: RedisServer;
const limiters: CallerLimiter[] = [];

beforeAll(async () => {
  server = await RedisServer.start({ durable: false });
});

afterEach(async () => {
  await Promise.all(limiters.splice(0).map((l) => l.close()));
});

afterAll(async () => {
  await server.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One gateway replica: its own Redis connection, sharing the test's key prefix. */
function replica(prefix: string, url = server.url): RedisCallerLimiter {
  const redis = new Redis(url, { commandTimeout: 250, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const limiter = new RedisCallerLimiter(redis, { prefix, ownsClient: true });
  limiters.push(limiter);
  return limiter;
}

/** A fresh key prefix per test, so no state leaks between tests. */
const freshPrefix = () => `runnel:gateway:limits:t-${randomUUID()}:`;

const stores: [string, () => CallerLimiter][] = [
  ['memory', () => {
    const l = new MemoryCallerLimiter();
    limiters.push(l);
    return l;
  }],
  ['redis', () => replica(freshPrefix())],
];

describe.each(stores)('%s limiter', (_store, make) => {
  it('allows exactly the limit at once, counting down, then refuses with a retry-after of one interval at most', async () => {
    const limiter = make();
    const taken = [];
    for (let i = 0; i < 3; i++) taken.push(await limiter.takeRequest('alice', { requestsPerMinute: 3 }));
    expect(taken.map((d) => [d.allowed, d.remaining])).toEqual([[true, 2], [true, 1], [true, 0]]);
    expect(taken.every((d) => d.limit === 3 && d.retryAfterSeconds === 0)).toBe(true);

    const refused = await limiter.takeRequest('alice', { requestsPerMinute: 3 });
    expect(refused).toMatchObject({ allowed: false, limit: 3, remaining: 0 });
    // One request back every 20 s; the whole budget back within the minute.
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(20);
    expect(refused.resetSeconds).toBeGreaterThan(20);
    expect(refused.resetSeconds).toBeLessThanOrEqual(60);
    // A refusal spends nothing: still refused, not pushed further out.
    expect((await limiter.takeRequest('alice', { requestsPerMinute: 3 })).retryAfterSeconds).toBeLessThanOrEqual(refused.retryAfterSeconds);
  });

  it('counts each caller on its own', async () => {
    const limiter = make();
    expect((await limiter.takeRequest('alice', { requestsPerMinute: 1 })).allowed).toBe(true);
    expect((await limiter.takeRequest('alice', { requestsPerMinute: 1 })).allowed).toBe(false);
    expect((await limiter.takeRequest('bob', { requestsPerMinute: 1 })).allowed).toBe(true);
  });

  it('allows exactly N for a limit whose interval is not a whole number of ms (7 per minute)', async () => {
    const limiter = make();
    const allowed = [];
    for (let i = 0; i < 8; i++) allowed.push((await limiter.takeRequest('carol', { requestsPerMinute: 7 })).allowed);
    expect(allowed).toEqual([true, true, true, true, true, true, true, false]);
  });

  it('earns requests back over time', async () => {
    const limiter = make();
    // 1200 per minute: one back every 50 ms. Spend the budget (and whatever refilled meanwhile) until refused.
    const policy = { requestsPerMinute: 1200 };
    let taken = 0;
    while ((await limiter.takeRequest('dave', policy)).allowed) if (++taken > 5_000) throw new Error('never refused');
    expect(taken).toBeGreaterThanOrEqual(1200);
    await sleep(150);
    expect((await limiter.takeRequest('dave', policy)).allowed).toBe(true);
  });

  it('holds at most max slots; a released slot is free again; release twice is harmless', async () => {
    const limiter = make();
    const a = await limiter.acquireSlot('erin', 2);
    const b = await limiter.acquireSlot('erin', 2);
    expect(a.ok && b.ok).toBe(true);
    expect(await limiter.acquireSlot('erin', 2)).toEqual({ ok: false, inUse: 2, retryAfterSeconds: 1 });
    expect((await limiter.acquireSlot('frank', 2)).ok).toBe(true);
    await (a as SlotHeld).release();
    await (a as SlotHeld).release();
    const c = await limiter.acquireSlot('erin', 2);
    expect(c.ok).toBe(true);
    expect((await limiter.acquireSlot('erin', 2)).ok).toBe(false);
  });

  it('renews a long holder: its slot outlives many leases', async () => {
    const limiter = make();
    const held = await limiter.acquireSlot('gina', 1, 300);
    expect(held.ok).toBe(true);
    await sleep(1_200);
    expect((await limiter.acquireSlot('gina', 1, 300)).ok).toBe(false);
    await (held as SlotHeld).release();
    expect((await limiter.acquireSlot('gina', 1, 300)).ok).toBe(true);
  });
});

describe('Redis limiter across replicas', () => {
  it('two replicas share one rate budget', async () => {
    const prefix = freshPrefix();
    const [a, b] = [replica(prefix), replica(prefix)];
    const policy = { requestsPerMinute: 4 };
    const results = [await a.takeRequest('k', policy), await b.takeRequest('k', policy), await a.takeRequest('k', policy), await b.takeRequest('k', policy)];
    expect(results.map((r) => r.remaining)).toEqual([3, 2, 1, 0]);
    expect((await a.takeRequest('k', policy)).allowed).toBe(false);
    expect((await b.takeRequest('k', policy)).allowed).toBe(false);
  });

  it('two replicas share one concurrency quota', async () => {
    const prefix = freshPrefix();
    const [a, b] = [replica(prefix), replica(prefix)];
    const held = await a.acquireSlot('k', 2);
    expect((await b.acquireSlot('k', 2)).ok).toBe(true);
    expect(await a.acquireSlot('k', 2)).toMatchObject({ ok: false, inUse: 2 });
    expect(await b.acquireSlot('k', 2)).toMatchObject({ ok: false, inUse: 2 });
    await (held as SlotHeld).release();
    expect((await b.acquireSlot('k', 2)).ok).toBe(true);
  });

  it("frees the slot of a replica that died mid-request once its lease runs out", async () => {
    const prefix = freshPrefix();
    const survivor = replica(prefix);
    const doomed = replica(prefix);
    expect((await doomed.acquireSlot('k', 1, 300)).ok).toBe(true);
    await doomed.close(); // stops renewing and drops the connection without releasing, as a crash does
    expect((await survivor.acquireSlot('k', 1, 300)).ok).toBe(false);
    let freed = false;
    for (let i = 0; i < 100 && !freed; i++) {
      await sleep(50);
      freed = (await survivor.acquireSlot('k', 1, 300)).ok;
    }
    expect(freed).toBe(true);
  });

  it('keys each caller under runnel:gateway:limits: with the caller as hash tag, braces and all encoded', async () => {
    const limiter = new RedisCallerLimiter(new Redis(server.url, { lazyConnect: true }), { ownsClient: true });
    limiters.push(limiter);
    expect(limiter.key('team-a', 'rate')).toBe('runnel:gateway:limits:{team-a}:rate');
    expect(limiter.key('we{ir}d', 'slots')).toBe('runnel:gateway:limits:{we%7Bir%7Dd}:slots');
  });

  it('answers LimiterUnavailableError, without waiting for Redis, when Redis is gone', async () => {
    const doomed = await RedisServer.start({ durable: false });
    const limiter = replica(freshPrefix(), doomed.url);
    expect((await limiter.takeRequest('k', { requestsPerMinute: 10 })).allowed).toBe(true);
    await doomed.stop();
    await expect(limiter.takeRequest('k', { requestsPerMinute: 10 })).rejects.toBeInstanceOf(LimiterUnavailableError);
    await expect(limiter.acquireSlot('k', 1)).rejects.toMatchObject({ name: 'LimiterUnavailableError', operation: 'acquire' });
  });
});
