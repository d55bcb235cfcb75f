import type { InputBounds } from '../../protocol/input-bounds';
import { prefetchJsonBody } from '../../protocol/request-body';
import type { Guard } from '../guard';
import { RequestAnsweredSignal } from '../request-answered';

/**
 * Reads a POST body before admission: a client still sending it (for up to BODY_TIMEOUT) holds no
 * run slot. The endpoint's own `readJsonBody` then gets the same outcome (parsed and checked against
 * MAX_INPUT_DEPTH / MAX_INPUT_ITEMS, or its 4xx).
 */
export function bodyGuard(bodyLimit: number, bounds: InputBounds): Guard {
  return {
    name: 'body',
    async check(ctx) {
      if (ctx.req.method !== 'POST') return;
      await prefetchJsonBody(ctx.req, bodyLimit, bounds);
      // Answered meanwhile (408 at BODY_TIMEOUT, by the connection guard) or the client left.
      if (ctx.res.headersSent || ctx.req.socket.destroyed) throw new RequestAnsweredSignal();
    },
  };
}
