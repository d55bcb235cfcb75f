import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdOf, sendJson } from './response-writer';

const ALLOWED_HEADERS = 'authorization, content-type, x-api-key, x-request-id';

/**
 * CORS for browsers calling the gateway from other origins. CORS_ORIGINS is an allow-list of exact
 * origins, or `*`; empty means no cross-origin access (same-origin, e.g. the playground, always works).
 */
export class CorsPolicy {
  readonly #any: boolean;
  readonly #origins: Set<string>;

  constructor(origins: string[]) {
    this.#any = origins.includes('*');
    this.#origins = new Set(origins.map((o) => o.replace(/\/$/, '')));
  }

  /** Sets the headers for an allowed origin; returns true when the request was a preflight and is answered. */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (!origin) return false;
    const allowed = this.#any || this.#origins.has(origin);
    if (allowed) {
      res.setHeader('access-control-allow-origin', this.#any ? '*' : origin);
      if (!this.#any) res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', 'x-request-id, retry-after');
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      if (allowed) {
        res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
        res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
        res.setHeader('access-control-max-age', '600');
      }
      if (allowed) {
        res.writeHead(204);
        res.end();
      } else {
        const detail = `Origin ${origin} is not allowed: add it to CORS_ORIGINS`;
        sendJson(res, 403, { detail, message: detail, request_id: requestIdOf(res) });
      }
      return true;
    }
    return false;
  }
}
