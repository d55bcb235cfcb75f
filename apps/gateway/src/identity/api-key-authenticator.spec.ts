import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Secret } from '@runnel/config';
import { ApiKeyAuthenticator, MAX_RECENT_KEYS } from './api-key-authenticator';
import { ApiKeysFileError, sha256Hex } from './api-keys-file';
import { looksLikeJwt, presentedCredential } from './credentials';

const BOT_KEY = 'bot-key-0123456789';
const CI_KEY = 'ci-key-abcdefghij';
const OLD_KEY = 'old-key-zyxwvutsrq';

describe('ApiKeyAuthenticator', () => {
  let dir: string;
  let file: string;
  const writeKeys = (keys: unknown[]) => writeFileSync(file, JSON.stringify({ keys }));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'runnel-keys-'));
    file = join(dir, 'keys.json');
    writeKeys([
      { name: 'support-bot', sha256: sha256Hex(BOT_KEY), scopes: ['chat:run', 'echo:*'], requests_per_minute: 600, concurrency: 10 },
      { name: 'ci', key: CI_KEY, scopes: ['*:schema'] },
      { name: 'old', sha256: sha256Hex(OLD_KEY), scopes: ['*:*'], disabled: true },
    ]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a key from the file becomes its named identity with scopes and limits', () => {
    const auth = new ApiKeyAuthenticator({ file });
    const result = auth.authenticate(BOT_KEY);
    expect('ok' in result).toBe(true);
    if (!('ok' in result)) return;
    expect(result.ok).toMatchObject({ name: 'support-bot', kind: 'api_key', limits: { requestsPerMinute: 600, concurrency: 10 } });
    expect(result.ok.scopes.allows('chat', 'stream')).toBe(true);
    expect(result.ok.scopes.allows('chat', 'input_schema')).toBe(false);
    expect(auth.authenticate(CI_KEY)).toMatchObject({ ok: { name: 'ci', kind: 'api_key' } });
    expect((auth.authenticate(CI_KEY) as { ok: { limits?: unknown } }).ok.limits).toBeUndefined();
  });

  it('an unknown key is invalid; a disabled one too, with its name in the reason for the log', () => {
    const auth = new ApiKeyAuthenticator({ file });
    expect(auth.authenticate('nope')).toEqual({ invalid: 'unknown API key' });
    expect(auth.authenticate(`${BOT_KEY}x`)).toEqual({ invalid: 'unknown API key' });
    expect(auth.authenticate(OLD_KEY)).toEqual({ invalid: 'API key "old" is disabled' });
  });

  it('GATEWAY_API_KEYS become env-key-1, env-key-2… allowed everything', () => {
    const auth = new ApiKeyAuthenticator({ envKeys: new Secret(['first-env-key', 'second-env-key']) });
    expect(auth.authenticate('first-env-key')).toMatchObject({ ok: { name: 'env-key-1', kind: 'api_key' } });
    const second = auth.authenticate('second-env-key') as { ok: { name: string; scopes: { allows(p: string, e: string): boolean } } };
    expect(second.ok.name).toBe('env-key-2');
    expect(second.ok.scopes.allows('agents/support', 'stream_events')).toBe(true);
    expect(auth.summary).toEqual({ fromFile: [], fromEnv: 2, disabled: [], plaintext: [] });
  });

  it('file and env keys together; the summary names file keys, disabled and plaintext ones', () => {
    const auth = new ApiKeyAuthenticator({ file, envKeys: new Secret(['env-only-key']) });
    expect(auth.size).toBe(4);
    expect(auth.authenticate('env-only-key')).toMatchObject({ ok: { name: 'env-key-1' } });
    expect(auth.authenticate(BOT_KEY)).toMatchObject({ ok: { name: 'support-bot' } });
    expect(auth.summary).toEqual({ fromFile: ['support-bot', 'ci', 'old'], fromEnv: 1, disabled: ['old'], plaintext: ['ci'] });
  });

  it('refuses the same key in the file and in GATEWAY_API_KEYS, and env-key-<n> names in the file, without echoing keys', () => {
    let err: unknown;
    try {
      new ApiKeyAuthenticator({ file, envKeys: new Secret([CI_KEY]) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiKeysFileError);
    expect((err as Error).message).toContain('key 1 ("ci"): the same key as env-key-1 of GATEWAY_API_KEYS');
    expect((err as Error).message).not.toContain(CI_KEY);

    writeKeys([{ name: 'env-key-1', key: 'whatever-key', scopes: [] }]);
    expect(() => new ApiKeyAuthenticator({ file })).toThrow('key 0 ("env-key-1"): names of the form env-key-<n> are reserved');
  });

  it('refuses GATEWAY_API_KEYS listing a key twice', () => {
    expect(() => new ApiKeyAuthenticator({ envKeys: new Secret(['a-key', 'b-key', 'a-key']) })).toThrow(ConfigError);
    expect(() => new ApiKeyAuthenticator({ envKeys: new Secret(['a-key', 'b-key', 'a-key']) })).toThrow('GATEWAY_API_KEYS: key 3 is the same as key 1');
  });

  it('reload() swaps in the new file: added keys work, removed and newly disabled ones stop', () => {
    const auth = new ApiKeyAuthenticator({ file, envKeys: new Secret(['env-only-key']) });
    const before = (auth.authenticate(BOT_KEY) as { ok: object }).ok;
    writeKeys([
      { name: 'support-bot', sha256: sha256Hex(BOT_KEY), scopes: ['echo:invoke'], disabled: true },
      { name: 'new-bot', key: 'brand-new-key-000', scopes: ['echo:invoke'] },
    ]);
    expect(auth.reload()).toEqual({ fromFile: ['support-bot', 'new-bot'], fromEnv: 1, disabled: ['support-bot'], plaintext: ['new-bot'] });
    expect(auth.authenticate('brand-new-key-000')).toMatchObject({ ok: { name: 'new-bot' } });
    expect(auth.authenticate(BOT_KEY)).toEqual({ invalid: 'API key "support-bot" is disabled' });
    expect(auth.authenticate(CI_KEY)).toEqual({ invalid: 'unknown API key' });
    expect(auth.authenticate('env-only-key')).toMatchObject({ ok: { name: 'env-key-1' } });
    // An identity handed out before the reload is unchanged (it is immutable).
    expect(before).toMatchObject({ name: 'support-bot' });
    expect(Object.isFrozen(before)).toBe(true);
  });

  it('a key seen before a reload is checked again after it: removed, disabled or changed keys stop at once', () => {
    const auth = new ApiKeyAuthenticator({ file });
    expect(auth.authenticate(CI_KEY)).toMatchObject({ ok: { name: 'ci' } });
    expect(auth.authenticate(BOT_KEY)).toMatchObject({ ok: { name: 'support-bot' } });
    expect(auth.authenticate(OLD_KEY)).toEqual({ invalid: 'API key "old" is disabled' });
    // Remembered: the same answers without the digest.
    expect(auth.recentSize).toBe(3);
    expect(auth.authenticate(CI_KEY)).toMatchObject({ ok: { name: 'ci' } });
    writeKeys([
      { name: 'support-bot', sha256: sha256Hex(BOT_KEY), scopes: ['echo:invoke'], disabled: true },
      { name: 'old', sha256: sha256Hex(OLD_KEY), scopes: ['echo:invoke'] },
    ]);
    auth.reload();
    expect(auth.recentSize).toBe(0);
    expect(auth.authenticate(CI_KEY)).toEqual({ invalid: 'unknown API key' });
    expect(auth.authenticate(BOT_KEY)).toEqual({ invalid: 'API key "support-bot" is disabled' });
    expect(auth.authenticate(OLD_KEY)).toMatchObject({ ok: { name: 'old' } });
    expect((auth.authenticate(OLD_KEY) as { ok: { scopes: { list: unknown } } }).ok.scopes.list).toEqual(['echo:invoke']);
  });

  it('remembers only keys that are ours, and at most MAX_RECENT_KEYS of them', () => {
    const keys = Array.from({ length: MAX_RECENT_KEYS + 5 }, (_, i) => `many-key-${String(i).padStart(6, '0')}`);
    const auth = new ApiKeyAuthenticator({ envKeys: new Secret(keys) });
    for (let i = 0; i < 100; i++) expect(auth.authenticate(`guess-${i}`)).toEqual({ invalid: 'unknown API key' });
    expect(auth.recentSize).toBe(0);
    keys.forEach((key, i) => expect(auth.authenticate(key)).toMatchObject({ ok: { name: `env-key-${i + 1}` } }));
    expect(auth.recentSize).toBe(MAX_RECENT_KEYS);
    // The oldest were let go, and are still known through the digest.
    expect(auth.authenticate(keys[0])).toMatchObject({ ok: { name: 'env-key-1' } });
    expect(auth.recentSize).toBe(MAX_RECENT_KEYS);
  });

  it('a failed reload throws and keeps the keys in use', () => {
    const auth = new ApiKeyAuthenticator({ file });
    writeFileSync(file, '{"keys": [');
    expect(() => auth.reload()).toThrow(ApiKeysFileError);
    rmSync(file);
    expect(() => auth.reload()).toThrow('cannot be read (ENOENT)');
    expect(auth.authenticate(BOT_KEY)).toMatchObject({ ok: { name: 'support-bot' } });
    expect(auth.size).toBe(3);
  });
});

describe('presentedCredential', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it('takes Authorization: Bearer first (any case), then X-API-Key', () => {
    expect(presentedCredential(req({ authorization: 'Bearer abc' }))).toEqual({ value: 'abc', header: 'authorization' });
    expect(presentedCredential(req({ authorization: '  bearer   abc  ' }))).toEqual({ value: 'abc', header: 'authorization' });
    expect(presentedCredential(req({ authorization: 'Bearer abc', 'x-api-key': 'def' }))).toEqual({ value: 'abc', header: 'authorization' });
    expect(presentedCredential(req({ 'x-api-key': 'def' }))).toEqual({ value: 'def', header: 'x-api-key' });
    expect(presentedCredential(req({ authorization: 'Basic dXNlcjpwdw==', 'x-api-key': 'def' }))).toEqual({ value: 'def', header: 'x-api-key' });
  });

  it('nothing usable is no credential', () => {
    expect(presentedCredential(req({}))).toBeUndefined();
    expect(presentedCredential(req({ authorization: 'Bearer ' }))).toBeUndefined();
    expect(presentedCredential(req({ authorization: 'Basic dXNlcjpwdw==' }))).toBeUndefined();
    expect(presentedCredential(req({ 'x-api-key': '  ' }))).toBeUndefined();
  });
});

describe('looksLikeJwt', () => {
  it('three base64url parts (the last may be empty, as for alg none) and nothing else', () => {
    expect(looksLikeJwt('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_')).toBe(true);
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBe(true);
    expect(looksLikeJwt('sk-live-0123456789')).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
    expect(looksLikeJwt('a.b.c.d')).toBe(false);
    expect(looksLikeJwt('a b.c.d')).toBe(false);
  });
});
