import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnableLambda } from '@langchain/core/runnables';
import { RedisServer } from '@runnel/testing';
import { sha256Hex } from '../src/identity/api-keys-file';
import { postJson, startTestGateway, type TestGateway } from './gateway-harness';

const BATCH_KEY = 'batch-key-9f8e7d6c5b4a';
const CHAT_KEY = 'chat-key-0a1b2c3d4e5f';

/**
 * Per-caller rate limits and concurrency quotas through two real gateway replicas sharing one real
 * redis-server (GATEWAY_REDIS_URL): the budget is the caller's, whichever replica it reaches.
 */
describe('per-caller limits across two gateway replicas', () => {
  let redis: RedisServer;
  let a: TestGateway;
  let b: TestGateway;
  let dir: string;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = mkdtempSync(join(tmpdir(), 'runnel-limits-'));
    const keys = join(dir, 'keys.json');
    writeFileSync(
      keys,
      JSON.stringify({
        keys: [
          { name: 'nightly-batch', sha256: sha256Hex(BATCH_KEY), scopes: ['*:*'], requests_per_minute: 4 },
          { name: 'chat-ui', sha256: sha256Hex(CHAT_KEY), scopes: ['*:*'], concurrency: 1 },
        ],
      }),
    );
    const register = (r: import('../src/registry/runnable-registry').RunnableRegistry) =>
      r.addRoutes(
        RunnableLambda.from(async () => {
          await new Promise<void>((resolve) => held.push(resolve));
          return 'released';
        }),
        { path: 'hold' },
      );
    const env = { GATEWAY_API_KEYS_FILE: keys, GATEWAY_REDIS_URL: redis.url, GATEWAY_RATE_LIMIT: '100' };
    a = await startTestGateway(env, { register });
    b = await startTestGateway(env, { register });
  });
  afterAll(async () => {
    held.splice(0).forEach((release) => release());
    await a?.close();
    await b?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  it('shares one rate budget between replicas: 429 with Retry-After and the IETF RateLimit fields', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof postJson>> | undefined;
    for (const gw of [a, b, a, b, a]) {
      last = await postJson(`${gw.url}/echo/invoke`, { input: 'x' }, auth(BATCH_KEY));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    expect(last!.body.detail).toMatch(/Rate limit of 4 requests per minute for "nightly-batch" reached; retry in \d+ s/);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last!.headers.get('ratelimit-policy')).toBe('"requests";q=4;w=60');
    expect(last!.headers.get('ratelimit')).toMatch(/^"requests";r=0;t=\d+$/);
    const ok = await postJson(`${a.url}/echo/invoke`, { input: 'x' }, auth(CHAT_KEY));
    expect(ok.status).toBe(200);
    // Successful answers carry the caller's remaining budget too (the default 100 per minute for chat-ui).
    expect(ok.headers.get('ratelimit-policy')).toBe('"requests";q=100;w=60');
    expect(ok.headers.get('ratelimit')).toMatch(/^"requests";r=99;t=\d+$/);
  });

  it('holds a concurrency quota across replicas and frees it when the response ends', async () => {
    const first = postJson(`${a.url}/hold/invoke`, { input: 1 }, auth(CHAT_KEY));
    while (held.length < 1) await new Promise((r) => setTimeout(r, 10));
    const refused = await postJson(`${b.url}/hold/invoke`, { input: 1 }, auth(CHAT_KEY));
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toMatch(/chat-ui/);
    expect(refused.headers.get('retry-after')).toBe('1');
    held.splice(0).forEach((release) => release());
    expect((await first).body.output).toBe('released');
    const again = postJson(`${b.url}/hold/invoke`, { input: 1 }, auth(CHAT_KEY));
    while (held.length < 1) await new Promise((r) => setTimeout(r, 10));
    held.splice(0).forEach((release) => release());
    expect((await again).status).toBe(200);
  });

  it('counts refusals per key name, never the key', async () => {
    const text = await (await fetch(`${a.metricsUrl}/metrics`)).text();
    expect(text).toMatch(/runnel_gateway_rate_limited_total\{caller="nightly-batch",limit="requests"[^}]*\} 1/);
    const bText = await (await fetch(`${b.metricsUrl}/metrics`)).text();
    expect(bText).toMatch(/runnel_gateway_rate_limited_total\{caller="chat-ui",limit="concurrency"[^}]*\} 1/);
    for (const logs of [a.logs, b.logs]) expect(JSON.stringify(logs)).not.toContain(BATCH_KEY);
  });
});
