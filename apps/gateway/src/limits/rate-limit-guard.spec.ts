import { randomUUID } from 'node:crypto';
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { parseConfig } from '@runnel/config';
import { Registry } from '@runnel/metrics';
import { createLogger } from '@runnel/telemetry';
import { RedisServer } from '@runnel/testing';
import type { GuardContext } from '../http/guard';
import type { CallerLimits, Identity } from '../caller/identity';
import { parseScopes } from '../caller/scopes';
import { HttpError } from '../protocol/http-error';
import type { CallerLimiter } from './caller-limiter';
import { extraHeadersOf } from '../http/response-writer';
import { LimitMetrics } from './limit-metrics';
import { createCallerLimiter, LimitsConfig } from './limits-config';
import { MemoryCallerLimiter } from './memory-caller-limiter';
import { type DefaultCallerLimits, RateLimitGuard } from './rate-limit-guard';

interface Harness {
  url: string;
  registry: Registry;
  logs: string[];
  /** Responses held open by `?hold`, in arrival order. */
  held: ServerResponse[];
  close(): Promise<void>;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

const identity = (name: string, limits?: CallerLimits): Identity => ({ name, kind: 'api_key', scopes: parseScopes(['*:*'], 'test'), limits });

/**
 * A loopback HTTP server that runs the guard as the gateway does: the identity from the test (by
 * the `x-caller` header), an HttpError answered as JSON with its headers, a success answered with the
 * headers the guard recorded, ctx.onClose on the response's close.
 */
async function startHarness(defaults: DefaultCallerLimits, callers: Record<string, Identity>, limiter: CallerLimiter = new MemoryCallerLimiter()): Promise<Harness> {
  const registry = new Registry();
  const logs: string[] = [];
  const logger = createLogger({
    service: 'gateway',
    level: 'warn',
    destination: new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) }),
  });
  const guard = new RateLimitGuard({ limiter, defaults, metrics: new LimitMetrics(registry), logger, leaseMs: 1_000 });
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const ctx = {
      req,
      res,
      requestId: randomUUID(),
      identity: callers[String(req.headers['x-caller'])],
      onClose: (fn: () => void) => res.once('close', fn),
    } as unknown as GuardContext;
    Promise.resolve(guard.check(ctx)).then(
      () => {
        if (req.url?.includes('hold')) return void held.push(res);
        res.writeHead(200, { 'content-type': 'text/plain', ...extraHeadersOf(res) }).end('ok');
      },
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        const headers = err instanceof HttpError ? err.headers : {};
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ detail: err instanceof HttpError ? err.detail : String(err) }));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const h: Harness = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    registry,
    logs,
    held,
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await limiter.close();
    },
  };
  harnesses.push(h);
  return h;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(h: Harness, caller?: string, path = '/'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.url}${path}`, { headers: caller ? { 'x-caller': caller } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends a request the server holds open once the guard passed; resolves when it is held, with a way to hang up. */
async function hold(h: Harness, caller: string): Promise<() => void> {
  const before = h.held.length;
  const req = request(`${h.url}/hold`, { headers: { 'x-caller': caller } });
  req.on('error', () => undefined);
  req.end();
  while (h.held.length === before) await new Promise((r) => setTimeout(r, 10));
  return () => req.destroy();
}

async function metric(h: Harness, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = await h.registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
}

describe('RateLimitGuard', () => {
  it('limits nobody when there is no identity (auth off)', async () => {
    const h = await startHarness({ requestsPerMinute: 1, concurrency: 1 }, {});
    for (let i = 0; i < 3; i++) {
      const a = await call(h);
      expect(a.status).toBe(200);
      expect(a.headers.ratelimit).toBeUndefined();
    }
  });

  it('answers within the limit with RateLimit headers, then 429 with Retry-After naming the caller and the limit', async () => {
    const h = await startHarness({ requestsPerMinute: 2, concurrency: 0 }, { alice: identity('alice') });
    const first = await call(h, 'alice');
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"requests";q=2;w=60');
    expect(first.headers.ratelimit).toMatch(/^"requests";r=1;t=\d+$/);
    expect((await call(h, 'alice')).headers.ratelimit).toMatch(/^"requests";r=0;t=\d+$/);

    const refused = await call(h, 'alice');
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 30).toBe(true);
    expect(JSON.parse(refused.body)).toEqual({ detail: `Rate limit of 2 requests per minute for "alice" reached; retry in ${retryAfter} s` });
    expect(refused.headers['ratelimit-policy']).toBe('"requests";q=2;w=60');
    expect(refused.headers.ratelimit).toMatch(/^"requests";r=0;t=\d+$/);
    expect(await metric(h, 'runnel_gateway_rate_limited_total', { caller: 'alice', limit: 'requests' })).toBe(1);
  });

  it("uses the identity's own limits over the defaults", async () => {
    const h = await startHarness({ requestsPerMinute: 1, concurrency: 0 }, { vip: identity('vip', { requestsPerMinute: 3 }), free: identity('free', { requestsPerMinute: 0 }) });
    expect([await call(h, 'vip'), await call(h, 'vip'), await call(h, 'vip'), await call(h, 'vip')].map((a) => a.status)).toEqual([200, 200, 200, 429]);
    // 0 in the identity: unlimited, even with a default.
    const free = [await call(h, 'free'), await call(h, 'free')];
    expect(free.map((a) => a.status)).toEqual([200, 200]);
    expect(free[0].headers.ratelimit).toBeUndefined();
  });

  it('refuses a request over the concurrency quota with 429, and frees the slot when the held response closes', async () => {
    const h = await startHarness({ requestsPerMinute: 0, concurrency: 1 }, { bob: identity('bob') });
    const hangUp = await hold(h, 'bob');
    expect(await metric(h, 'runnel_gateway_caller_slots_in_use', { caller: 'bob' })).toBe(1);

    const refused = await call(h, 'bob');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toEqual({ detail: 'Concurrency quota of 1 requests at once for "bob" reached; retry in 1 s' });
    expect(await metric(h, 'runnel_gateway_rate_limited_total', { caller: 'bob', limit: 'concurrency' })).toBe(1);

    hangUp();
    while ((await metric(h, 'runnel_gateway_caller_slots_in_use', { caller: 'bob' })) !== 0) await new Promise((r) => setTimeout(r, 10));
    expect((await call(h, 'bob')).status).toBe(200);
  });

  it('lets requests through (fail open) and counts the error when Redis is gone', async () => {
    const redis = await RedisServer.start({ durable: false });
    const registry = new Registry();
    const config = parseConfig(LimitsConfig, { GATEWAY_REDIS_URL: redis.url });
    const limiter = createCallerLimiter(config, createLogger({ service: 'gateway', level: 'silent' }), new LimitMetrics(registry), {
      prefix: `runnel:gateway:limits:t-${randomUUID()}:`,
    });
    const h = await startHarness({ requestsPerMinute: 5, concurrency: 2 }, { carol: identity('carol') }, limiter);
    const before = await call(h, 'carol');
    expect(before.status).toBe(200);
    expect(before.headers.ratelimit).toMatch(/^"requests";r=4;t=\d+$/);

    await redis.stop();
    const during = await call(h, 'carol');
    expect(during.status).toBe(200);
    expect(during.headers.ratelimit).toBeUndefined();
    expect(await metric(h, 'runnel_gateway_limiter_errors_total', { operation: 'take' })).toBe(1);
    expect(await metric(h, 'runnel_gateway_limiter_errors_total', { operation: 'acquire' })).toBe(1);
    expect(h.logs.join('')).toMatch(/caller limiter unavailable: request let through without its limit \(fail open\)/);
  });
});
