import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Secret } from '@runnel/config';
import { HttpError } from '../protocol/http-error';
import type { Guard } from './guard';

function digest(value: string): Buffer {
  // crypto.hash: one call, no Hash object per request (about half the cost of createHash here).
  return hash('sha256', value, 'buffer');
}

/**
 * API keys from GATEWAY_API_KEYS, checked against `Authorization: Bearer <key>` or `X-API-Key`.
 * Keys are compared as SHA-256 digests with timingSafeEqual, so neither a key's content nor its
 * length leaks through response timing; every configured key is compared on every request.
 */
export class ApiKeyAuth {
  readonly #digests: Buffer[];

  constructor(keys: Secret<string[]> | undefined) {
    this.#digests = (keys?.reveal() ?? []).map(digest);
  }

  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** The presented key, from either header; undefined when none is sent. */
  static presentedKey(req: IncomingMessage): string | undefined {
    const header = req.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(.+)$/i.exec(header.trim());
      if (m) return m[1].trim();
    }
    const apiKey = req.headers['x-api-key'];
    return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
  }

  check(req: IncomingMessage): 'ok' | 'missing' | 'invalid' {
    if (!this.enabled) return 'ok';
    const key = ApiKeyAuth.presentedKey(req);
    if (key === undefined) return 'missing';
    const presented = digest(key);
    let match = false;
    for (const d of this.#digests) match = timingSafeEqual(d, presented) || match;
    return match ? 'ok' : 'invalid';
  }
}

/** 401 unless the request carries one of the keys. */
export function apiKeyGuard(auth: ApiKeyAuth): Guard {
  return {
    name: 'authenticate',
    check(ctx) {
      const outcome = auth.check(ctx.req);
      if (outcome === 'ok') return;
      const detail = outcome === 'missing' ? 'Missing API key: send Authorization: Bearer <key> or X-API-Key: <key>' : 'Invalid API key';
      throw new HttpError(401, detail, { 'www-authenticate': 'Bearer' });
    },
  };
}
