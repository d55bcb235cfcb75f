import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeysFileError, loadApiKeysFile, parseApiKeysFile, sha256Hex } from './api-keys-file';

const FILE = '/etc/runnel/keys.json';
const KEY = 'sk-live-0123456789abcdef';
const HASH = sha256Hex('another-key-value-xyz');

function problemsOf(value: unknown): string {
  try {
    parseApiKeysFile(typeof value === 'string' ? value : JSON.stringify(value), FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiKeysFileError);
    const message = (err as Error).message;
    // Whatever is wrong, the message never carries a key or a hash.
    expect(message).not.toContain(KEY);
    expect(message).not.toContain(HASH);
    expect(message).not.toContain(HASH.toUpperCase());
    return message;
  }
  throw new Error('expected ApiKeysFileError');
}

describe('parseApiKeysFile', () => {
  it('reads hashed and plaintext entries into digests, scopes and limits', () => {
    const entries = parseApiKeysFile(
      JSON.stringify({
        keys: [
          { name: 'support-bot', sha256: HASH.toUpperCase(), scopes: ['chat:run', 'echo:*'], requests_per_minute: 600, concurrency: 10 },
          { name: 'ci.runner_2', key: KEY, scopes: ['*:schema'], disabled: true },
        ],
      }),
      FILE,
    );
    expect(entries).toHaveLength(2);
    const [bot, ci] = entries;
    expect(bot).toMatchObject({ name: 'support-bot', sha256: HASH, disabled: false, plaintext: false, limits: { requestsPerMinute: 600, concurrency: 10 } });
    expect(bot.scopes.allows('chat', 'stream')).toBe(true);
    expect(bot.scopes.allows('chat', 'input_schema')).toBe(false);
    expect(ci).toMatchObject({ name: 'ci.runner_2', sha256: sha256Hex(KEY), disabled: true, plaintext: true, limits: undefined });
    expect(ci.scopes.allows('x', 'output_schema')).toBe(true);
  });

  it('accepts an empty key list', () => {
    expect(parseApiKeysFile('{"keys": []}', FILE)).toEqual([]);
  });

  it('not JSON: names the file and the position, never the text around it', () => {
    const message = problemsOf(`{"keys": [{"name": "a", "key": "${KEY}" "scopes": []}]}`);
    expect(message).toMatch(/^GATEWAY_API_KEYS_FILE \/etc\/runnel\/keys\.json: is not valid JSON/);
  });

  it('the wrong top-level shape', () => {
    expect(problemsOf([])).toContain('must be a JSON object {"keys": [...]}');
    expect(problemsOf({ keys: {} })).toContain('"keys" must be an array');
    expect(problemsOf({ keys: [], key: KEY })).toContain('unknown field "key" (expected only "keys")');
  });

  it('exactly one of sha256 or key', () => {
    expect(problemsOf({ keys: [{ name: 'a', scopes: [] }] })).toContain('key 0 ("a"): give exactly one of "sha256" (recommended) or "key"');
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], key: KEY, sha256: HASH }] })).toContain('key 0 ("a"): give exactly one of');
  });

  it('a malformed key or hash is reported by field, never by value', () => {
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], sha256: `${HASH}00` }] })).toContain('key 0 ("a"): sha256 must be 64 hex digits');
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], sha256: 12345 }] })).toContain('key 0 ("a"): sha256 must be a string');
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], key: ` ${KEY}` }] })).toContain('key 0 ("a"): key must not start or end with whitespace');
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], key: '' }] })).toContain('key 0 ("a"): key must not be empty');
  });

  it('names: the pattern, and unique', () => {
    expect(problemsOf({ keys: [{ name: 'has space', scopes: [], key: KEY }] })).toContain('key 0: name must match');
    expect(problemsOf({ keys: [{ name: 'x'.repeat(65), scopes: [], key: KEY }] })).toContain('key 0: name must match');
    expect(problemsOf({ keys: [{ scopes: [], key: KEY }] })).toContain('key 0: name must be a string');
    expect(
      problemsOf({ keys: [{ name: 'a', scopes: [], key: KEY }, { name: 'b', scopes: [], sha256: HASH }, { name: 'a', scopes: [], key: 'k3' }] }),
    ).toContain('key 2 ("a"): name "a" is already used by key 0');
  });

  it('the same key in two entries is refused (which identity it is would depend on order)', () => {
    const message = problemsOf({ keys: [{ name: 'a', scopes: [], key: KEY }, { name: 'b', scopes: [], sha256: sha256Hex(KEY).toUpperCase() }] });
    expect(message).toContain('key 1 ("b"): the same key as key 0');
    expect(message).not.toContain(sha256Hex(KEY));
  });

  it('scopes are parsed, the bad one named with its entry', () => {
    expect(problemsOf({ keys: [{ name: 'bot', scopes: ['echo:invoke', 'echo:invok'], key: KEY }] })).toContain(
      'key 0 ("bot"): scope "echo:invok" names no endpoint',
    );
    expect(problemsOf({ keys: [{ name: 'bot', scopes: 'echo:*', key: KEY }] })).toContain('key 0 ("bot"): scopes must be an array of strings');
  });

  it('limits are whole numbers, 0 exempting the key from the default', () => {
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], key: KEY, requests_per_minute: -1 }] })).toContain('requests_per_minute must be 0 (no limit) or more');
    expect(parseApiKeysFile(JSON.stringify({ keys: [{ name: 'a', scopes: [], key: KEY, requests_per_minute: 0 }] }), FILE)[0].limits).toEqual({ requestsPerMinute: 0 });
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], key: KEY, concurrency: 2.5 }] })).toContain('concurrency must be a whole number');
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], key: KEY, concurrency: '10' }] })).toContain('concurrency must be a number');
  });

  it('an unknown field (a typo) is refused by name', () => {
    expect(problemsOf({ keys: [{ name: 'a', scopes: [], key: KEY, request_per_minute: 5 }] })).toContain('key 0 ("a"): unknown field "request_per_minute"');
  });

  it('lists every bad entry at once', () => {
    const message = problemsOf({ keys: [{ name: 'a', scopes: [], key: KEY, disabled: 'no' }, 7, { name: 'c', scopes: ['nope'], sha256: HASH }] });
    expect(message).toContain('key 0 ("a"): disabled must be true or false');
    expect(message).toContain('key 1: must be an object');
    expect(message).toContain('key 2 ("c"): scope "nope" has no ":"');
  });
});

describe('loadApiKeysFile', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'runnel-keys-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file', () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [{ name: 'a', scopes: ['*:*'], sha256: HASH }] }));
    expect(loadApiKeysFile(file).map((e) => e.name)).toEqual(['a']);
  });

  it('a missing file names the file and why', () => {
    const file = join(dir, 'absent.json');
    expect(() => loadApiKeysFile(file)).toThrow(new ApiKeysFileError(file, ['cannot be read (ENOENT)']));
    expect(() => loadApiKeysFile(file)).toThrow(`GATEWAY_API_KEYS_FILE ${file}: cannot be read (ENOENT)`);
  });
});
