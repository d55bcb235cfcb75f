import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnableLambda } from '@langchain/core/runnables';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { sha256Hex } from '../src/identity/api-keys-file';
import { identityOf } from '../src/caller/identity';
import type { RunnableRegistry } from '../src/registry/runnable-registry';
import { postJson, startTestGateway, type TestGateway } from './gateway-harness';

/**
 * Callers with identities over HTTP: keys file + GATEWAY_API_KEYS + JWTs against a loopback JWKS, through
 * the real gateway. The runnable `whoami` answers with the run's metadata and what the config modifier saw.
 */

const BOT_KEY = 'bot-key-0123456789abcdef';
const LEGACY_KEY = 'legacy-key-0123456789';

function register(r: RunnableRegistry): void {
  r.addRoutes(
    RunnableLambda.from(() => {
      throw new Error('internal failure');
    }),
    { path: 'boom' },
  );
  r.addRoutes(
    RunnableLambda.from((_input: unknown, config) => ({ metadata: config?.metadata ?? {}, configurable: config?.configurable ?? {} })),
    {
      path: 'agents/whoami',
      perRequestConfigModifier: (config, req) => ({ ...config, configurable: { ...config.configurable, seen_caller: identityOf(req)?.name ?? null } }),
    },
  );
}

describe('callers with identities over HTTP', () => {
  let gw: TestGateway;
  let dir: string;
  let jwks: Server;
  let token: string;
  let tokenNoScopes: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runnel-identity-'));
    const file = join(dir, 'keys.json');
    writeFileSync(
      file,
      JSON.stringify({ keys: [{ name: 'support-bot', sha256: sha256Hex(BOT_KEY), scopes: ['agents/*:invoke', 'echo:run'] }] }),
    );
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const set = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(set));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('alice').setAudience('runnel').setExpirationTime('5m').sign(privateKey);
    token = await sign({ scope: 'openid agents/whoami:invoke' });
    tokenNoScopes = await sign({});
    gw = await startTestGateway(
      {
        GATEWAY_API_KEYS_FILE: file,
        GATEWAY_API_KEYS: LEGACY_KEY,
        GATEWAY_JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
        GATEWAY_JWT_AUDIENCE: 'runnel',
      },
      { register },
    );
  });

  afterAll(async () => {
    await gw?.close();
    jwks?.closeAllConnections();
    await new Promise((resolve) => jwks?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const invoke = (headers: Record<string, string>) => postJson(`${gw.url}/agents/whoami/invoke`, { input: 'x' }, headers);

  it('no credentials: 401 saying how to send them', async () => {
    const r = await invoke({});
    expect(r.status).toBe(401);
    expect(r.body.detail).toBe('Missing credentials: send Authorization: Bearer <key or token> or X-API-Key: <key>');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('a wrong key: 401, and the log never holds the key', async () => {
    const r = await invoke({ 'x-api-key': 'wrong-key-000000001' });
    expect(r).toMatchObject({ status: 401, body: { detail: 'Invalid API key or token' } });
    expect(JSON.stringify(gw.logs)).not.toContain('wrong-key-000000001');
  });

  it('a named key in scope: the run metadata and the config modifier see its name, never the key', async () => {
    const r = await invoke({ authorization: `Bearer ${BOT_KEY}` });
    expect(r.status).toBe(200);
    expect(r.body.output.metadata).toMatchObject({ runnel_caller: 'support-bot', runnel_caller_kind: 'api_key' });
    expect(r.body.output.configurable).toMatchObject({ seen_caller: 'support-bot' });
    expect(JSON.stringify(gw.logs)).not.toContain(BOT_KEY);
  });

  it('a named key out of scope: 403 naming the key, the endpoint and the path', async () => {
    const r = await postJson(`${gw.url}/agents/whoami/batch`, { inputs: ['x'] }, { 'x-api-key': BOT_KEY });
    expect(r).toMatchObject({ status: 403, body: { detail: 'API key "support-bot" may not call batch on "/agents/whoami"' } });
  });

  it('GATEWAY_API_KEYS still works, as env-key-1 with every scope', async () => {
    const r = await postJson(`${gw.url}/agents/whoami/batch`, { inputs: ['x'] }, { 'x-api-key': LEGACY_KEY });
    expect(r.status).toBe(200);
    expect(r.body.output[0].metadata).toMatchObject({ runnel_caller: 'env-key-1' });
  });

  it('a JWT beside the keys: named by sub; without scopes it may call nothing', async () => {
    const r = await invoke({ authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(r.body.output.metadata).toMatchObject({ runnel_caller: 'alice', runnel_caller_kind: 'jwt' });
    expect((await invoke({ authorization: `Bearer ${tokenNoScopes}` })).body.detail).toBe('Token subject "alice" may not call invoke on "/agents/whoami"');
    expect(JSON.stringify(gw.logs)).not.toContain(token);
  });

  it('a failed run is logged with the caller\'s name, never its key', async () => {
    const r = await postJson(`${gw.url}/boom/invoke`, { input: 1 }, { 'x-api-key': LEGACY_KEY });
    expect(r.status).toBe(500);
    const line = gw.logs.find((l) => l.msg === 'run failed' && l.runnable === 'boom');
    expect(line).toMatchObject({ caller: 'env-key-1', endpoint: 'invoke' });
    expect(JSON.stringify(gw.logs)).not.toContain(LEGACY_KEY);
  });

  it('the playground page needs no credentials', async () => {
    expect((await fetch(`${gw.url}/agents/whoami/playground/`)).status).toBe(200);
  });

  it('metrics count failures by reason and requests by caller name', async () => {
    const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
    expect(text).toMatch(/runnel_gateway_auth_failures_total\{reason="missing"[^}]*\} [1-9]/);
    expect(text).toMatch(/runnel_gateway_auth_failures_total\{reason="forbidden"[^}]*\} [1-9]/);
    expect(text).toMatch(/runnel_gateway_caller_requests_total\{caller="support-bot",endpoint="invoke"[^}]*\} [1-9]/);
    expect(text).not.toContain(BOT_KEY);
  });
});
