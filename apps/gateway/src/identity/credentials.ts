import type { IncomingMessage } from 'node:http';
import type { Identity } from '../caller/identity';

/** What an authenticator answers. Reasons are for the log: they name keys, claims and algorithms, never a credential. */
export type AuthResult =
  | { readonly ok: Identity }
  /** No credentials sent. */
  | { readonly missing: true }
  /** Credentials sent but refused (unknown, disabled, expired, bad signature…) → 401. */
  | { readonly invalid: string }
  /** Cannot tell now (the JWKS cannot be fetched) → 503: the caller is not at fault and should retry. */
  | { readonly unavailable: string };

/** A credential as the client sent it. `value` is secret: never log it. */
export interface PresentedCredential {
  readonly value: string;
  readonly header: 'authorization' | 'x-api-key';
}

/**
 * The credential of a request: `Authorization: Bearer <value>` first (the scheme is case-insensitive),
 * else `X-API-Key: <value>`; undefined when neither is sent (another scheme such as Basic counts as none).
 */
export function presentedCredential(req: IncomingMessage): PresentedCredential | undefined {
  const header = req.headers.authorization;
  if (header) {
    const value = bearerValue(header);
    if (value !== undefined) return { value, header: 'authorization' };
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? { value: apiKey.trim(), header: 'x-api-key' } : undefined;
}

/**
 * What `/^Bearer\s+(.+)$/i.exec(header.trim())?.[1].trim()` gives, without a regular expression on
 * every request (under load that regexp showed as ~4 µs per request, docs/benchmarks.md): the scheme
 * in any case, at least one whitespace character (JavaScript's \s, as trim() knows it), then the rest,
 * which must not hold a line terminator (`.` does not match one).
 */
export function bearerValue(header: string): string | undefined {
  const t = header.trim();
  if (t.length < 8 || t.slice(0, 6).toLowerCase() !== 'bearer' || !isJsWhitespace(t.charCodeAt(6))) return undefined;
  let i = 7;
  while (i < t.length && isJsWhitespace(t.charCodeAt(i))) i++;
  // Trimmed: the string ends with a character that is not whitespace, so the rest is never empty.
  for (let j = i; j < t.length; j++) if (isLineTerminator(t.charCodeAt(j))) return undefined;
  return t.slice(i);
}

/** JavaScript's WhiteSpace and LineTerminator, what `\s` and trim() take. */
function isJsWhitespace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function isLineTerminator(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

// JWS compact serialisation: three base64url parts, the last empty for `alg: none` (refused later,
// but it must reach the JWT check to be refused as a token rather than as an unknown key).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer value has the shape of a JWT; anything else is treated as an API key only. */
export function looksLikeJwt(value: string): boolean {
  return COMPACT_JWS.test(value);
}
