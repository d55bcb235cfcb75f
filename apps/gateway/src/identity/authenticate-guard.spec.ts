import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret } from '@runnel/config';
import { generateKeyPair, SignJWT } from 'jose';
import { Registry } from '@runnel/metrics';
import { createLogCapture, createLogger } from '@runnel/telemetry';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { sha256Hex } from './api-keys-file';
import { createAuthenticateGuard, INVALID_CREDENTIALS, KEYS_UNAVAILABLE, MISSING_CREDENTIALS } from './authenticate-guard';
import { createAuthorizeGuard } from './authorize-guard';
import { CallerAuthenticator } from './caller-authenticator';
import { type GuardHarness, startGuardHarness } from './guard-harness';
import { IdentityMetrics } from './identity-metrics';
import { JwtAuthenticator } from './jwt-authenticator';

const BOT_KEY = 'bot-key-0123456789';
const OLD_KEY = 'old-key-zyxwvutsrq';

let dir: string;
let file: string;
let harness: GuardHarness | undefined;
let registry: Registry;
let logs: Record<string, unknown>[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runnel-keys-'));
  file = join(dir, 'keys.json');
  writeFileSync(
    file,
    JSON.stringify({
      keys: [
        { name: 'support-bot', sha256: sha256Hex(BOT_KEY), scopes: ['chat:run', 'agents/*:invoke'] },
        { name: 'old', sha256: sha256Hex(OLD_KEY), scopes: ['*:*'], disabled: true },
      ],
    }),
  );
  registry = new Registry();
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function start(authenticator: CallerAuthenticator | undefined) {
  const capture = createLogCapture();
  logs = capture.lines;
  const logger = createLogger({ service: 'gateway', level: 'info', destination: capture.destination });
  const metrics = new IdentityMetrics(registry);
  harness = await startGuardHarness([createAuthenticateGuard({ authenticator, metrics, logger }), createAuthorizeGuard({ metrics, logger })]);
  return harness;
}

const keysOnly = () => new CallerAuthenticator(new ApiKeyAuthenticator({ file, envKeys: new Secret(['legacy-env-key']) }), undefined);

async function counter(name: string): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get();
  const out: Record<string, number> = {};
  for (const v of metric?.values ?? []) out[Object.values(v.labels).join('|')] = v.value;
  return out;
}

describe('authenticate + authorize guards', () => {
  it('auth off (no authenticator): every request passes with no identity', async () => {
    const h = await start(undefined);
    expect(await h.call('echo', 'invoke')).toMatchObject({ status: 200 });
    expect((await h.call('echo', 'invoke')).body.caller).toBeUndefined();
  });

  it('no credentials: 401 saying how to send them, with WWW-Authenticate: Bearer', async () => {
    const h = await start(keysOnly());
    const r = await h.call('chat', 'invoke');
    expect(r.status).toBe(401);
    expect(r.body.detail).toBe(MISSING_CREDENTIALS);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect(await counter('runnel_gateway_auth_failures_total')).toEqual({ missing: 1 });
  });

  it('a wrong key: 401 "Invalid API key or token"; the log has the reason, never the key', async () => {
    const h = await start(keysOnly());
    const r = await h.call('chat', 'invoke', { authorization: 'Bearer not-a-real-key-123' });
    expect(r).toMatchObject({ status: 401, body: { detail: INVALID_CREDENTIALS } });
    expect(r.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(logs.find((l) => l.msg === 'caller refused: invalid credentials')).toMatchObject({ reason: 'unknown API key', runnable: 'chat', endpoint: 'invoke' });
    expect(JSON.stringify(logs)).not.toContain('not-a-real-key-123');
  });

  it('a disabled key: the same 401 for the client; the log names the key', async () => {
    const h = await start(keysOnly());
    const r = await h.call('chat', 'invoke', { 'x-api-key': OLD_KEY });
    expect(r).toMatchObject({ status: 401, body: { detail: INVALID_CREDENTIALS } });
    expect(logs.find((l) => l.msg === 'caller refused: invalid credentials')).toMatchObject({ reason: 'API key "old" is disabled' });
    expect(JSON.stringify(logs)).not.toContain(OLD_KEY);
  });

  it('a good key in scope: passes with the named identity on ctx; counted per caller', async () => {
    const h = await start(keysOnly());
    expect(await h.call('chat', 'stream', { authorization: `Bearer ${BOT_KEY}` })).toMatchObject({
      status: 200,
      body: { caller: 'support-bot', kind: 'api_key' },
    });
    expect(await h.call('agents/support/v2', 'invoke', { 'x-api-key': BOT_KEY })).toMatchObject({ status: 200, body: { caller: 'support-bot' } });
    expect(await h.call('echo', 'batch', { 'x-api-key': 'legacy-env-key' })).toMatchObject({ status: 200, body: { caller: 'env-key-1' } });
    expect(await counter('runnel_gateway_caller_requests_total')).toEqual({ 'support-bot|stream': 1, 'support-bot|invoke': 1, 'env-key-1|batch': 1 });
  });

  it('a good key out of scope: 403 naming the key, the endpoint and the path', async () => {
    const h = await start(keysOnly());
    const r = await h.call('agents/support', 'batch', { 'x-api-key': BOT_KEY });
    expect(r).toMatchObject({ status: 403, body: { detail: 'API key "support-bot" may not call batch on "/agents/support"' } });
    expect((await h.call('echo', 'invoke', { 'x-api-key': BOT_KEY })).body.detail).toBe('API key "support-bot" may not call invoke on "/echo"');
    expect(await counter('runnel_gateway_auth_failures_total')).toEqual({ forbidden: 2 });
    expect(logs.find((l) => l.msg === 'caller refused: scope')).toMatchObject({ caller: 'support-bot', scopes: ['chat:run', 'agents/*:invoke'] });
  });

  it('a key reloaded from the file takes effect on the next request', async () => {
    const auth = keysOnly();
    const h = await start(auth);
    writeFileSync(file, JSON.stringify({ keys: [{ name: 'rotated', key: 'rotated-key-0001', scopes: ['*:*'] }] }));
    expect(auth.reload()).toMatchObject({ fromFile: ['rotated'] });
    expect((await h.call('chat', 'invoke', { 'x-api-key': BOT_KEY })).status).toBe(401);
    expect(await h.call('chat', 'invoke', { 'x-api-key': 'rotated-key-0001' })).toMatchObject({ status: 200, body: { caller: 'rotated' } });
  });

  it('API keys only: a JWT-shaped bearer that is not a key is invalid', async () => {
    const h = await start(keysOnly());
    expect((await h.call('chat', 'invoke', { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' })).status).toBe(401);
  });
});

describe('authenticate guard with JWTs', () => {
  it('JWKS unreachable: 503 with Retry-After, not 401; the log says why', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
    await new Promise((resolve) => closed.close(resolve));
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ scope: '*:*' }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setSubject('alice').setExpirationTime('5m').sign(privateKey);

    const h = await start(new CallerAuthenticator(new ApiKeyAuthenticator({ file }), await JwtAuthenticator.create({ jwksUrl: url })));
    const r = await h.call('chat', 'invoke', { authorization: `Bearer ${token}` });
    expect(r).toMatchObject({ status: 503, body: { detail: KEYS_UNAVAILABLE } });
    expect(r.headers.get('retry-after')).toBe('5');
    expect(await counter('runnel_gateway_auth_failures_total')).toEqual({ unavailable: 1 });
    expect(logs.find((l) => l.msg === 'caller not checked: key set unavailable')).toMatchObject({ reason: expect.stringContaining('ECONNREFUSED') });
    expect(JSON.stringify(logs)).not.toContain(token);
    // API keys keep working while the JWKS is down.
    expect(await h.call('chat', 'invoke', { authorization: `Bearer ${BOT_KEY}` })).toMatchObject({ status: 200, body: { caller: 'support-bot' } });
  });
});
