import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { CallerLimits } from '../caller/identity';
import { parseScopes, ScopeError, type Scopes } from '../caller/scopes';

/**
 * Thrown by `loadApiKeysFile` / `parseApiKeysFile` when GATEWAY_API_KEYS_FILE cannot be read or is
 * not a valid keys file: at start-up (the gateway refuses to start) and on reload (the keys in use
 * are kept). The message names the file and the entry (index and name), never a key or hash value.
 */
export class ApiKeysFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`GATEWAY_API_KEYS_FILE ${file}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
    this.name = 'ApiKeysFileError';
  }
}

/** One key from the file, checked, with its SHA-256 digest (hex) whichever way the file gave it. */
export interface ApiKeyEntry {
  readonly name: string;
  /** Lower-case hex SHA-256 of the key. */
  readonly sha256: string;
  readonly scopes: Scopes;
  readonly limits?: CallerLimits;
  readonly disabled: boolean;
  /** True when the file holds the key itself (`key`), not its hash: worth a warning at start-up. */
  readonly plaintext: boolean;
}

export const API_KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** SHA-256 of a key as lower-case hex: how keys are stored (`sha256`; ApiKeyAuthenticator looks them up in base64). */
export function sha256Hex(key: string): string {
  return hash('sha256', key, 'hex');
}

/** 0 exempts the key from the gateway-wide default (GATEWAY_RATE_LIMIT / GATEWAY_CALLER_CONCURRENCY). */
const limitInt = (what: string) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).min(0, `${what} must be 0 (no limit) or more`);

// Messages are written here, not zod's defaults, so that no issue can quote a value: a `key` or
// `sha256` that is the wrong type or shape is reported by field name only.
const EntrySchema = z
  .strictObject(
    {
      name: z.string({ error: 'name must be a string' }).regex(API_KEY_NAME, `name must match ${API_KEY_NAME.source}`),
      sha256: z
        .string({ error: 'sha256 must be a string' })
        .regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits (the SHA-256 of the key, e.g. `printf %s "$KEY" | sha256sum`)')
        .optional(),
      key: z
        .string({ error: 'key must be a string' })
        .min(1, 'key must not be empty')
        .refine((k) => k.trim() === k, 'key must not start or end with whitespace (it could never be sent as is)')
        .optional(),
      scopes: z.array(z.unknown(), { error: 'scopes must be an array of strings' }),
      requests_per_minute: limitInt('requests_per_minute').optional(),
      concurrency: limitInt('concurrency').optional(),
      disabled: z.boolean({ error: 'disabled must be true or false' }).optional(),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}` : 'must be an object') },
  )
  .refine((e) => (e.sha256 === undefined) !== (e.key === undefined), 'give exactly one of "sha256" (recommended) or "key"');

const FileSchema = z.strictObject(
  { keys: z.array(z.unknown(), { error: '"keys" must be an array' }) },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (expected only "keys")` : 'must be a JSON object {"keys": [...]}') },
);

function entryLabel(index: number, raw: unknown): string {
  const name = (raw as { name?: unknown } | null)?.name;
  return typeof name === 'string' && API_KEY_NAME.test(name) ? `key ${index} ("${name}")` : `key ${index}`;
}

/** V8's JSON.parse message quotes the text around the error, which may be a key: keep the position only. */
function jsonProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const where = /\(line \d+ column \d+\)/.exec(message)?.[0] ?? /at position \d+/.exec(message)?.[0];
  return `is not valid JSON${where ? ` ${where}` : ''}`;
}

/**
 * Parses the text of a keys file. `file` names it in errors. Entries are numbered from 0, as in the
 * JSON array. Every problem in the file is reported at once.
 * @throws ApiKeysFileError
 */
export function parseApiKeysFile(text: string, file: string): ApiKeyEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ApiKeysFileError(file, [jsonProblem(err)]);
  }
  const top = FileSchema.safeParse(json);
  if (!top.success) throw new ApiKeysFileError(file, [top.error.issues[0].message]);

  const problems: string[] = [];
  const entries: ApiKeyEntry[] = [];
  const byName = new Map<string, number>();
  const byDigest = new Map<string, number>();
  top.data.keys.forEach((raw, index) => {
    const label = entryLabel(index, raw);
    const parsed = EntrySchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}: ${issue.message}`);
      return;
    }
    const e = parsed.data;
    let scopes: Scopes;
    try {
      scopes = parseScopes(e.scopes, `${label}`);
    } catch (err) {
      if (!(err instanceof ScopeError)) throw err;
      problems.push(err.message);
      return;
    }
    const earlierName = byName.get(e.name);
    if (earlierName !== undefined) problems.push(`${label}: name "${e.name}" is already used by key ${earlierName}`);
    else byName.set(e.name, index);
    const sha256 = e.sha256 !== undefined ? e.sha256.toLowerCase() : sha256Hex(e.key as string);
    const earlierDigest = byDigest.get(sha256);
    // The same key twice would make the identity (and its scopes) depend on the entry order.
    if (earlierDigest !== undefined) problems.push(`${label}: the same key as key ${earlierDigest}`);
    else byDigest.set(sha256, index);
    const limits: CallerLimits | undefined =
      e.requests_per_minute !== undefined || e.concurrency !== undefined
        ? Object.freeze({ requestsPerMinute: e.requests_per_minute, concurrency: e.concurrency })
        : undefined;
    entries.push(Object.freeze({ name: e.name, sha256, scopes, limits, disabled: e.disabled ?? false, plaintext: e.key !== undefined }));
  });
  if (problems.length > 0) throw new ApiKeysFileError(file, problems);
  return entries;
}

/**
 * Reads and parses GATEWAY_API_KEYS_FILE:
 *
 * ```json
 * {"keys": [
 *   {"name": "support-bot", "sha256": "<64 hex digits>", "scopes": ["chat:run", "echo:*"],
 *    "requests_per_minute": 600, "concurrency": 10},
 *   {"name": "ci", "key": "<the key itself>", "scopes": ["*:schema"], "disabled": true}
 * ]}
 * ```
 *
 * Each entry gives exactly one of `sha256` (the SHA-256 of the key in hex — recommended: the file then
 * holds nothing a caller could send; make one with `printf %s "$KEY" | sha256sum`) or `key` (the key in
 * plaintext). `name` (`[A-Za-z0-9._-]{1,64}`, unique) is what logs, metrics and run metadata show.
 * `scopes` uses the grammar of scopes.ts. `requests_per_minute` and `concurrency` (whole numbers; 0 exempts the key from the default limit)
 * override the gateway-wide defaults for this key. `disabled: true` refuses the key with 401 (logged
 * by name) without deleting it.
 * @throws ApiKeysFileError when the file cannot be read or is invalid.
 */
export function loadApiKeysFile(file: string): ApiKeyEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ApiKeysFileError(file, [`cannot be read (${code ?? (err as Error).message})`]);
  }
  return parseApiKeysFile(text, file);
}
