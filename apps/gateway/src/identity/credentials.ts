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
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (m) return { value: m[1].trim(), header: 'authorization' };
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? { value: apiKey.trim(), header: 'x-api-key' } : undefined;
}

// JWS compact serialisation: three base64url parts, the last empty for `alg: none` (refused later,
// but it must reach the JWT check to be refused as a token rather than as an unknown key).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer value has the shape of a JWT; anything else is treated as an API key only. */
export function looksLikeJwt(value: string): boolean {
  return COMPACT_JWS.test(value);
}
