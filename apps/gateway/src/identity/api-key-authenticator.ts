import { ConfigError, type Secret } from '@runnel/config';
import { hash } from 'node:crypto';
import { type ApiKeyEntry, ApiKeysFileError, loadApiKeysFile } from './api-keys-file';
import type { AuthResult } from './credentials';
import type { Identity } from '../caller/identity';
import { Scopes } from '../caller/scopes';

interface KnownKey {
  readonly identity: Identity;
  readonly disabled: boolean;
}

export interface ApiKeySources {
  /** GATEWAY_API_KEYS_FILE: path of the keys file (see loadApiKeysFile). */
  readonly file?: string;
  /** GATEWAY_API_KEYS: each becomes `env-key-<n>` (1-based, in order) with scopes `*:*`. */
  readonly envKeys?: Secret<string[]>;
}

/** Summary of what a load found, for the start-up / reload log line (names only). */
export interface ApiKeysSummary {
  readonly fromFile: readonly string[];
  readonly fromEnv: number;
  readonly disabled: readonly string[];
  /** Names of file entries that hold the key in plaintext (`key` rather than `sha256`). */
  readonly plaintext: readonly string[];
}

const ENV_KEY_NAME = /^env-key-\d+$/;

/** Presented keys whose result is remembered at most (see ApiKeyAuthenticator's #recent). */
export const MAX_RECENT_KEYS = 1_024;

/**
 * The lookup form of a key's SHA-256: base64 rather than hex, because the digest of every presented
 * key is computed on the request path and base64 is the cheaper encoding there (about 0.3 µs of
 * 0.6 µs per digest in isolation). Same digest, same timing property; stored keys are converted once.
 */
function lookupDigest(key: string): string {
  return hash('sha256', key, 'base64');
}

function lookupDigestOfHex(sha256Hex: string): string {
  return Buffer.from(sha256Hex, 'hex').toString('base64');
}

/**
 * Named API keys, from GATEWAY_API_KEYS_FILE and GATEWAY_API_KEYS, checked against a presented key.
 *
 * Lookup is a Map keyed by the SHA-256 of the presented key (base64, see lookupDigest). That keeps the property the
 * gateway had (ApiKeyAuth: SHA-256 digests compared with timingSafeEqual): what the lookup's timing
 * can depend on is the digest of the attacker's own input — the Map's hash of it and how many
 * leading characters it shares with a stored digest — and learning a prefix of SHA-256(key) gives
 * nothing toward the key or its length (that would take a preimage). Unlike comparing every digest,
 * it costs the same for 3 keys or 3,000, which matters on the request path.
 */
export class ApiKeyAuthenticator {
  #keys: ReadonlyMap<string, KnownKey>;
  #summary: ApiKeysSummary;
  /**
   * Presented key → what it came to, for keys that are ours (enabled or disabled) and were presented
   * since the last load: a caller seen recently costs a Map lookup instead of a SHA-256 (about 1 µs
   * of the request path, docs/benchmarks.md). A key that is not ours never enters it, so guessing
   * cannot fill it; at most MAX_RECENT_KEYS entries (the oldest goes first); emptied by every
   * (re)load, so a removed or disabled key stops at once. It holds presented keys in clear in
   * memory, as GATEWAY_API_KEYS already is. Its lookup hashes the presented string with V8's seeded
   * string hash and compares it with a remembered key only on a hash match: the timing property of
   * the digest lookup (nothing learnt about a stored key) is kept.
   */
  readonly #recent = new Map<string, AuthResult>();

  /**
   * @throws ApiKeysFileError when the file is unreadable or invalid, or reuses a key or a reserved `env-key-<n>` name.
   * @throws ConfigError when GATEWAY_API_KEYS lists the same key twice.
   */
  constructor(readonly sources: ApiKeySources) {
    [this.#keys, this.#summary] = ApiKeyAuthenticator.#load(sources);
  }

  /** Keys known now (disabled ones included). */
  get size(): number {
    return this.#keys.size;
  }

  get summary(): ApiKeysSummary {
    return this.#summary;
  }

  /** Checks a presented key. Synchronous: no I/O. */
  authenticate(key: string): AuthResult {
    return this.authenticateKnown(key) ?? { invalid: 'unknown API key' };
  }

  /** As authenticate, but undefined for a key that is not one of ours (so a caller can try it as something else). */
  authenticateKnown(key: string): AuthResult | undefined {
    const recent = this.#recent.get(key);
    if (recent !== undefined) return recent;
    const known = this.#keys.get(lookupDigest(key));
    if (known === undefined) return undefined;
    const result: AuthResult = known.disabled ? { invalid: `API key "${known.identity.name}" is disabled` } : { ok: known.identity };
    if (this.#recent.size >= MAX_RECENT_KEYS) this.#recent.delete(this.#recent.keys().next().value as string);
    this.#recent.set(key, result);
    return result;
  }

  /** Presented keys remembered now (for the spec). */
  get recentSize(): number {
    return this.#recent.size;
  }

  /**
   * Re-reads GATEWAY_API_KEYS_FILE (e.g. on SIGHUP) and swaps the keys in at once; requests already
   * authenticated keep their identity. On any error the keys in use stay as they were.
   * @throws ApiKeysFileError when the new file is unreadable or invalid.
   */
  reload(): ApiKeysSummary {
    [this.#keys, this.#summary] = ApiKeyAuthenticator.#load(this.sources);
    this.#recent.clear();
    return this.#summary;
  }

  static #load(sources: ApiKeySources): [Map<string, KnownKey>, ApiKeysSummary] {
    const keys = new Map<string, KnownKey>();
    const envKeys = sources.envKeys?.reveal() ?? [];
    envKeys.forEach((key, i) => {
      const digest = lookupDigest(key);
      const earlier = keys.get(digest);
      if (earlier) {
        throw new ConfigError([{ variable: 'GATEWAY_API_KEYS', reason: `key ${i + 1} is the same as key ${earlier.identity.name.slice('env-key-'.length)}` }]);
      }
      keys.set(digest, { identity: Object.freeze({ name: `env-key-${i + 1}`, kind: 'api_key', scopes: Scopes.all }), disabled: false });
    });

    const entries: ApiKeyEntry[] = sources.file === undefined ? [] : loadApiKeysFile(sources.file);
    const problems: string[] = [];
    entries.forEach((e, index) => {
      if (ENV_KEY_NAME.test(e.name)) {
        problems.push(`key ${index} ("${e.name}"): names of the form env-key-<n> are reserved for the keys of GATEWAY_API_KEYS`);
        return;
      }
      const digest = lookupDigestOfHex(e.sha256);
      const earlier = keys.get(digest);
      if (earlier) {
        problems.push(`key ${index} ("${e.name}"): the same key as ${earlier.identity.name} of GATEWAY_API_KEYS`);
        return;
      }
      const identity: Identity = Object.freeze({ name: e.name, kind: 'api_key', scopes: e.scopes, ...(e.limits ? { limits: e.limits } : {}) });
      keys.set(digest, { identity, disabled: e.disabled });
    });
    if (problems.length > 0) throw new ApiKeysFileError(sources.file as string, problems);

    const summary: ApiKeysSummary = {
      fromFile: entries.map((e) => e.name),
      fromEnv: envKeys.length,
      disabled: entries.filter((e) => e.disabled).map((e) => e.name),
      plaintext: entries.filter((e) => e.plaintext).map((e) => e.name),
    };
    return [keys, summary];
  }
}
