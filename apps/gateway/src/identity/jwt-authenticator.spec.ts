import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@runnel/config';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { JwtAuthenticator, type JwtOptions } from './jwt-authenticator';

/** Tokens come from jose's SignJWT, keys from generateKeyPair, and the JWKS is a real node:http server on loopback. */

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'runnel-gateway';
const now = () => Math.floor(Date.now() / 1000);

interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

let es: KeyPair;
let rsa: KeyPair;
let other: KeyPair;
let jwks: { keys: JWK[] } = { keys: [] };
let mode: 'serve' | 'error' | 'hang' = 'serve';
let fetches = 0;
let server: Server;
let jwksUrl: string;
const hanging: (() => void)[] = [];

beforeAll(async () => {
  es = await generateKeyPair('ES256');
  rsa = await generateKeyPair('RS256');
  other = await generateKeyPair('ES256');
  jwks = {
    keys: [
      { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    ],
  };
  server = createServer((req, res) => {
    fetches++;
    if (mode === 'hang') return void hanging.push(() => res.destroy());
    if (mode === 'error') return void res.writeHead(500).end('boom');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  for (const end of hanging) end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  mode = 'serve';
});

function token(claims: Record<string, unknown>, opts: { key?: CryptoKey; alg?: string; kid?: string; exp?: number | null } = {}): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: opts.kid ?? 'es-1' })
    .setIssuedAt()
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('alice@example.test');
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now() + 300);
  return jwt.sign(opts.key ?? es.privateKey);
}

const viaJwks = (extra: Partial<JwtOptions> = {}) => JwtAuthenticator.create({ jwksUrl, issuer: ISSUER, audience: [AUDIENCE], ...extra });

describe('JwtAuthenticator with a JWKS URL', () => {
  it('a valid token: named by sub, scopes from `scope`, claims kept', async () => {
    const auth = await viaJwks();
    const result = await auth.authenticate(await token({ scope: 'openid echo:invoke agents/*:run', tenant: 't1' }));
    expect('ok' in result).toBe(true);
    if (!('ok' in result)) return;
    expect(result.ok).toMatchObject({ name: 'alice@example.test', kind: 'jwt', claims: { tenant: 't1', iss: ISSUER } });
    expect(result.ok.scopes.list).toEqual(['echo:invoke', 'agents/*:run']);
    expect(result.ok.scopes.allows('agents/support', 'stream')).toBe(true);
    expect(result.ok.scopes.allows('echo', 'batch')).toBe(false);
  });

  it('scopes from `scp` as an array; an RS256 token from the same set', async () => {
    const auth = await viaJwks();
    const result = await auth.authenticate(await token({ scp: ['chat:run', 'profile'] }, { key: rsa.privateKey, alg: 'RS256', kid: 'rsa-1' }));
    expect(result).toMatchObject({ ok: { name: 'alice@example.test' } });
    expect((result as { ok: { scopes: { list: readonly string[] } } }).ok.scopes.list).toEqual(['chat:run']);
  });

  it('a token without scopes is authenticated but allowed nothing', async () => {
    const auth = await viaJwks();
    const result = (await auth.authenticate(await token({}))) as { ok: { scopes: { isEmpty: boolean; allows(p: string, e: string): boolean } } };
    expect(result.ok.scopes.isEmpty).toBe(true);
    expect(result.ok.scopes.allows('echo', 'invoke')).toBe(false);
  });

  it('GATEWAY_JWT_NAME_CLAIM picks another claim; a token without it is invalid', async () => {
    const auth = await viaJwks({ nameClaim: 'client_id' });
    expect(await auth.authenticate(await token({ client_id: 'billing-service' }))).toMatchObject({ ok: { name: 'billing-service' } });
    expect(await auth.authenticate(await token({}))).toEqual({
      invalid: 'token has no "client_id" claim naming the caller (a string of 1 to 256 characters)',
    });
  });

  it('expired is invalid; expired within the 30 s clock tolerance is accepted', async () => {
    const auth = await viaJwks();
    expect(await auth.authenticate(await token({}, { exp: now() - 120 }))).toEqual({ invalid: 'token expired' });
    expect(await auth.authenticate(await token({}, { exp: now() - 5 }))).toMatchObject({ ok: { name: 'alice@example.test' } });
  });

  it('a token without exp is invalid (it would never expire)', async () => {
    const auth = await viaJwks();
    const result = await auth.authenticate(await token({}, { exp: null }));
    expect(result).toEqual({ invalid: expect.stringContaining('"exp"') });
  });

  it('wrong issuer and wrong audience are invalid; neither is checked when not configured', async () => {
    const strict = await viaJwks({ issuer: 'https://other-idp.test/', audience: ['someone-else', 'another'] });
    const t = await token({});
    const result = await strict.authenticate(t);
    expect(result).toEqual({ invalid: expect.stringContaining('"iss"') });
    const audOnly = await viaJwks({ audience: ['someone-else'] });
    expect(await audOnly.authenticate(t)).toEqual({ invalid: expect.stringContaining('"aud"') });
    const lax = await JwtAuthenticator.create({ jwksUrl });
    expect(await lax.authenticate(t)).toMatchObject({ ok: { name: 'alice@example.test' } });
  });

  it('signed by a key not in the set: a known kid fails the signature, an unknown kid matches no key', async () => {
    const auth = await viaJwks();
    expect(await auth.authenticate(await token({}, { key: other.privateKey, kid: 'es-1' }))).toEqual({ invalid: 'token signature does not verify' });
    expect(await auth.authenticate(await token({}, { key: other.privateKey, kid: 'not-there' }))).toEqual({
      invalid: 'no key in the JWKS matches the token (kid/alg)',
    });
  });

  it('alg none and HS256 are refused', async () => {
    const auth = await viaJwks();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const body = b64({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: now() + 300, scope: '*:*' });
    const none = `${b64({ alg: 'none' })}.${body}.`;
    expect(await auth.authenticate(none)).toEqual({ invalid: expect.stringMatching(/^token/) });
    expect('ok' in (await auth.authenticate(none))).toBe(false);
    const hs = await new SignJWT({ sub: 'mallory', scope: '*:*' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(now() + 300)
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await auth.authenticate(hs)).toEqual({ invalid: 'token algorithm not allowed (GATEWAY_JWT_ALGORITHMS)' });
  });

  it('garbage shaped like a JWT is invalid, not an exception', async () => {
    const auth = await viaJwks();
    for (const junk of ['a.b.c', 'eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln', '....']) {
      const result = await auth.authenticate(junk);
      expect(result).toEqual({ invalid: expect.any(String) });
      expect((result as { invalid: string }).invalid).not.toContain(junk);
    }
  });

  it('GATEWAY_JWT_ALGORITHMS narrows what is accepted', async () => {
    const auth = await viaJwks({ algorithms: ['RS256'] });
    expect(await auth.authenticate(await token({}))).toEqual({ invalid: 'token algorithm not allowed (GATEWAY_JWT_ALGORITHMS)' });
  });

  it('JWKS down (connection refused) is unavailable, not invalid', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
    await new Promise((resolve) => closed.close(resolve));
    const auth = await JwtAuthenticator.create({ jwksUrl: url });
    const result = await auth.authenticate(await token({}));
    expect(result).toEqual({ unavailable: expect.stringContaining(`JWKS ${url} could not be used`) });
    expect((result as { unavailable: string }).unavailable).toContain('ECONNREFUSED');
  });

  it('JWKS answering 500 is unavailable', async () => {
    mode = 'error';
    const auth = await viaJwks();
    expect(await auth.authenticate(await token({}))).toEqual({ unavailable: expect.stringContaining('Expected 200 OK') });
  });

  it('JWKS that never answers is unavailable once the fetch timeout passes, not a hang', async () => {
    mode = 'hang';
    const auth = await viaJwks({ jwksTimeoutMs: 200 });
    expect(await auth.authenticate(await token({}))).toEqual({ unavailable: expect.stringContaining('timed out') });
  });

  it('keys are fetched once and cached across tokens', async () => {
    const auth = await viaJwks();
    const before = fetches;
    for (let i = 0; i < 3; i++) expect(await auth.authenticate(await token({}))).toMatchObject({ ok: {} });
    expect(fetches - before).toBe(1);
  });
});

describe('JwtAuthenticator with a PEM public key', () => {
  it('an EC key verifies ES256 tokens (no kid needed)', async () => {
    const auth = await JwtAuthenticator.create({ publicKeyPem: await exportSPKI(es.publicKey), issuer: ISSUER });
    expect(auth.description).toBe('public key (EC prime256v1: ES256)');
    expect(await auth.authenticate(await token({ scope: 'echo:*' }, { kid: 'whatever' }))).toMatchObject({ ok: { name: 'alice@example.test' } });
    expect(await auth.authenticate(await token({}, { key: other.privateKey }))).toEqual({ invalid: 'token signature does not verify' });
  });

  it('an RSA key verifies both RS256 and PS256 (both in the default list)', async () => {
    const pem = await exportSPKI(rsa.publicKey);
    const auth = await JwtAuthenticator.create({ publicKeyPem: pem });
    expect(auth.description).toBe('public key (RSA: RS256, PS256)');
    expect(await auth.authenticate(await token({}, { key: rsa.privateKey, alg: 'RS256' }))).toMatchObject({ ok: {} });
    const ps = await generateKeyPair('PS256');
    const psAuth = await JwtAuthenticator.create({ publicKeyPem: await exportSPKI(ps.publicKey) });
    expect(await psAuth.authenticate(await token({}, { key: ps.privateKey, alg: 'PS256' }))).toMatchObject({ ok: {} });
    // An ES256 token against an RSA key: the algorithm is not one the key allows.
    expect(await auth.authenticate(await token({}))).toEqual({ invalid: 'token algorithm not allowed (GATEWAY_JWT_ALGORITHMS)' });
  });

  it('a key no allowed algorithm fits, or not a key at all, fails start-up naming the variable', async () => {
    const pem = await exportSPKI(es.publicKey);
    await expect(JwtAuthenticator.create({ publicKeyPem: pem, algorithms: ['RS256', 'EdDSA'] })).rejects.toThrow(ConfigError);
    await expect(JwtAuthenticator.create({ publicKeyPem: pem, algorithms: ['RS256', 'EdDSA'] })).rejects.toThrow(
      'GATEWAY_JWT_ALGORITHMS: allows RS256, EdDSA, none of which a EC prime256v1 key (GATEWAY_JWT_PUBLIC_KEY) verifies; it verifies ES256',
    );
    await expect(JwtAuthenticator.create({ publicKeyPem: 'not a key' })).rejects.toThrow('GATEWAY_JWT_PUBLIC_KEY: is not a PEM public key');
  });

  it('exactly one of a JWKS URL and a public key', async () => {
    const pem = await exportSPKI(es.publicKey);
    await expect(JwtAuthenticator.create({ jwksUrl, publicKeyPem: pem })).rejects.toThrow('GATEWAY_JWT_PUBLIC_KEY: give GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY, not both');
    await expect(JwtAuthenticator.create({})).rejects.toThrow('need GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY');
  });
});
