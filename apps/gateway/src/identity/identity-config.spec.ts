import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, env, parseConfig } from '@runnel/config';
import { createLogCapture, createLogger } from '@runnel/telemetry';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { ApiKeysFileError, sha256Hex } from './api-keys-file';
import type { AuthResult } from './credentials';
import { createAuthenticators, IdentityConfig } from './identity-config';

// The gateway's schema spreads IdentityConfig beside GATEWAY_API_KEYS; the same here.
const Schema = { ...IdentityConfig, GATEWAY_API_KEYS: env.secretList() };
const configOf = (vars: Record<string, string>) => parseConfig(Schema, vars);
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'runnel-identity-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const { destination, lines } = createLogCapture();
  return { logger: createLogger({ service: 'gateway', level: 'info', destination }), lines };
}

describe('IdentityConfig', () => {
  it('defaults: nothing set, name claim sub, the four default algorithms', () => {
    expect(configOf({})).toMatchObject({
      GATEWAY_API_KEYS_FILE: undefined,
      GATEWAY_JWT_JWKS_URL: undefined,
      GATEWAY_JWT_PUBLIC_KEY: undefined,
      GATEWAY_JWT_ISSUER: undefined,
      GATEWAY_JWT_AUDIENCE: [],
      GATEWAY_JWT_NAME_CLAIM: 'sub',
      GATEWAY_JWT_ALGORITHMS: ['RS256', 'ES256', 'EdDSA', 'PS256'],
    });
  });

  it('parses lists and refuses bad values by variable name', () => {
    expect(configOf({ GATEWAY_JWT_AUDIENCE: 'a, b', GATEWAY_JWT_ALGORITHMS: 'ES384,EdDSA' })).toMatchObject({
      GATEWAY_JWT_AUDIENCE: ['a', 'b'],
      GATEWAY_JWT_ALGORITHMS: ['ES384', 'EdDSA'],
    });
    expect(() => configOf({ GATEWAY_JWT_ALGORITHMS: 'ES256,HS256' })).toThrow('GATEWAY_JWT_ALGORITHMS: must list only RS256');
    expect(() => configOf({ GATEWAY_JWT_ALGORITHMS: 'none' })).toThrow('GATEWAY_JWT_ALGORITHMS');
    expect(() => configOf({ GATEWAY_JWT_JWKS_URL: 'not a url' })).toThrow('GATEWAY_JWT_JWKS_URL: must be an absolute URL');
  });
});

describe('createAuthenticators', () => {
  it('nothing configured: undefined (auth off)', async () => {
    expect(await createAuthenticators(configOf({}))).toBeUndefined();
    expect(await createAuthenticators(configOf({ GATEWAY_API_KEYS: ' , ' }))).toBeUndefined();
  });

  it('keys file and GATEWAY_API_KEYS together; logs names and counts, warns about plaintext keys, never logs a key', async () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ name: 'bot', key: 'plain-key-000001', scopes: ['echo:*'] }, { name: 'ops', sha256: sha256Hex('hashed-key-01'), scopes: ['*:*'] }] }));
    const { logger, lines } = capture();
    const auth = await createAuthenticators(configOf({ GATEWAY_API_KEYS_FILE: file, GATEWAY_API_KEYS: 'legacy-key-001' }), logger);
    expect(auth?.authenticate(req({ 'x-api-key': 'plain-key-000001' }))).toMatchObject({ ok: { name: 'bot' } });
    expect(auth?.authenticate(req({ authorization: 'Bearer legacy-key-001' }))).toMatchObject({ ok: { name: 'env-key-1' } });
    expect(lines.find((l) => l.msg === 'caller auth: 3 API keys')).toMatchObject({ keys: ['bot', 'ops'], envKeys: 1, apiKeysFile: file });
    expect(lines.find((l) => String(l.msg).includes('plaintext'))).toMatchObject({ level: 'warn', keys: ['bot'] });
    const text = JSON.stringify(lines);
    for (const secret of ['plain-key-000001', 'legacy-key-001', sha256Hex('hashed-key-01'), sha256Hex('plain-key-000001')]) expect(text).not.toContain(secret);
  });

  it('an invalid keys file fails start-up naming the file and the entry', async () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ name: 'bot', scopes: ['echo:nope'], key: 'k-000000001' }] }));
    await expect(createAuthenticators(configOf({ GATEWAY_API_KEYS_FILE: file }))).rejects.toThrow(ApiKeysFileError);
    await expect(createAuthenticators(configOf({ GATEWAY_API_KEYS_FILE: file }))).rejects.toThrow(`GATEWAY_API_KEYS_FILE ${file}: key 0 ("bot"): scope "echo:nope"`);
    await expect(createAuthenticators(configOf({ GATEWAY_API_KEYS_FILE: join(dir, 'none.json') }))).rejects.toThrow('cannot be read (ENOENT)');
  });

  it('both a JWKS URL and a public key: fails start-up naming the variables', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const vars = { GATEWAY_JWT_JWKS_URL: 'https://idp.example.test/jwks.json', GATEWAY_JWT_PUBLIC_KEY: await exportSPKI(publicKey) };
    await expect(createAuthenticators(configOf(vars))).rejects.toThrow(ConfigError);
    await expect(createAuthenticators(configOf(vars))).rejects.toThrow('GATEWAY_JWT_PUBLIC_KEY: give GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY, not both');
  });

  it('issuer or audience without a JWKS URL or key fails start-up (they would silently check nothing)', async () => {
    await expect(createAuthenticators(configOf({ GATEWAY_API_KEYS: 'k-1234567', GATEWAY_JWT_ISSUER: 'https://idp/', GATEWAY_JWT_AUDIENCE: 'x' }))).rejects.toThrow(
      /GATEWAY_JWT_ISSUER: has no effect without GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY\n.*GATEWAY_JWT_AUDIENCE: has no effect/,
    );
  });

  it('a public key given as one-line PEM with \\n escapes, or as a file path; JWT and API keys side by side', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const pem = await exportSPKI(publicKey);
    const token = await new SignJWT({ scope: 'echo:invoke' }).setProtectedHeader({ alg: 'ES256' }).setSubject('svc-a').setAudience('gw').setExpirationTime('5m').sign(privateKey);
    const pemFile = join(dir, 'jwt.pem');
    writeFileSync(pemFile, pem);
    const { logger, lines } = capture();
    for (const value of [pem.replace(/\n/g, '\\n'), pemFile]) {
      const auth = await createAuthenticators(configOf({ GATEWAY_JWT_PUBLIC_KEY: value, GATEWAY_JWT_AUDIENCE: 'gw', GATEWAY_API_KEYS: 'legacy-key-001' }), logger);
      const result = (await auth?.authenticate(req({ authorization: `Bearer ${token}` }))) as AuthResult;
      expect(result).toMatchObject({ ok: { name: 'svc-a', kind: 'jwt' } });
      expect(auth?.authenticate(req({ authorization: 'Bearer legacy-key-001' }))).toMatchObject({ ok: { name: 'env-key-1' } });
    }
    expect(lines.find((l) => l.msg === 'caller auth: JWT bearer tokens')).toMatchObject({ verifier: 'public key (EC prime256v1: ES256)', audience: ['gw'] });
    await expect(createAuthenticators(configOf({ GATEWAY_JWT_PUBLIC_KEY: join(dir, 'missing.pem') }))).rejects.toThrow(
      'GATEWAY_JWT_PUBLIC_KEY: is neither PEM text (-----BEGIN PUBLIC KEY-----) nor a readable file (ENOENT)',
    );
  });

  it('warns when JWTs are on without an audience', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const { logger, lines } = capture();
    await createAuthenticators(configOf({ GATEWAY_JWT_PUBLIC_KEY: await exportSPKI(publicKey) }), logger);
    expect(lines.find((l) => String(l.msg).startsWith('GATEWAY_JWT_AUDIENCE is not set'))).toMatchObject({ level: 'warn' });
  });
});
