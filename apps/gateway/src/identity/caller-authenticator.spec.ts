import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Secret } from '@runnel/config';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { CallerAuthenticator } from './caller-authenticator';
import { JwtAuthenticator } from './jwt-authenticator';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
// An API key that happens to look like a JWT (three dot-separated base64url parts).
const DOTTED_KEY = 'team.gateway.key_0123456789';

let server: Server;
let jwt: JwtAuthenticator;
let token: string;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwt = await JwtAuthenticator.create({ jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` });
  token = await new SignJWT({ scope: 'echo:invoke' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('alice').setExpirationTime('5m').sign(privateKey);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('CallerAuthenticator', () => {
  const keys = () => new ApiKeyAuthenticator({ envKeys: new Secret(['plain-key-0001', DOTTED_KEY]) });

  it('no credential is missing, whatever is configured', () => {
    expect(new CallerAuthenticator(keys(), jwt).authenticate(req({}))).toEqual({ missing: true });
    expect(new CallerAuthenticator(undefined, jwt).authenticate(req({ authorization: 'Basic eDp5' }))).toEqual({ missing: true });
  });

  it('API keys answer synchronously', () => {
    const result = new CallerAuthenticator(keys(), jwt).authenticate(req({ 'x-api-key': 'plain-key-0001' }));
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toMatchObject({ ok: { name: 'env-key-1' } });
  });

  it('both enabled: a key is a key (even one shaped like a JWT), a token is verified as a JWT', async () => {
    const auth = new CallerAuthenticator(keys(), jwt);
    expect(auth.authenticate(req({ authorization: `Bearer ${DOTTED_KEY}` }))).toMatchObject({ ok: { name: 'env-key-2', kind: 'api_key' } });
    expect(await auth.authenticate(req({ authorization: `Bearer ${token}` }))).toMatchObject({ ok: { name: 'alice', kind: 'jwt' } });
    expect(auth.authenticate(req({ authorization: 'Bearer not-a-key' }))).toEqual({ invalid: 'unknown API key' });
    expect(await auth.authenticate(req({ authorization: `Bearer ${token}x` }))).toEqual({ invalid: expect.stringMatching(/^token/) });
  });

  it('a JWT is only taken from Authorization: Bearer, not X-API-Key', () => {
    expect(new CallerAuthenticator(keys(), jwt).authenticate(req({ 'x-api-key': token }))).toEqual({ invalid: 'unknown API key' });
    expect(new CallerAuthenticator(undefined, jwt).authenticate(req({ 'x-api-key': token }))).toEqual({
      invalid: 'X-API-Key sent but no API keys are configured (JWT only)',
    });
  });

  it('JWT only: a bearer value that is not a JWT is invalid', () => {
    expect(new CallerAuthenticator(undefined, jwt).authenticate(req({ authorization: 'Bearer plain-key-0001' }))).toEqual({ invalid: 'bearer value is not a JWT' });
  });

  it('reload() with no keys file re-reads nothing', () => {
    expect(new CallerAuthenticator(keys(), jwt).reload()).toBeUndefined();
    expect(new CallerAuthenticator(undefined, jwt).reload()).toBeUndefined();
  });
});
