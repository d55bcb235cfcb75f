import type { Logger } from '@runnel/telemetry';
import type { Guard, GuardContext } from '../http/guard';
import { HttpError } from '../protocol/http-error';
import type { CallerAuthenticator } from './caller-authenticator';
import type { AuthResult } from './credentials';
import type { IdentityMetrics } from './identity-metrics';

export const MISSING_CREDENTIALS = 'Missing credentials: send Authorization: Bearer <key or token> or X-API-Key: <key>';
export const INVALID_CREDENTIALS = 'Invalid API key or token';
export const KEYS_UNAVAILABLE = 'Cannot verify the token now: the identity provider is unreachable; retry shortly';
/** Seconds a client is told to wait when the JWKS cannot be fetched (jose refetches on the next request). */
const UNAVAILABLE_RETRY_AFTER = '5';

export interface AuthenticateGuardDeps {
  /** Undefined when no API keys and no JWT settings are configured: auth is off, every request passes with no identity. */
  readonly authenticator: CallerAuthenticator | undefined;
  readonly metrics?: IdentityMetrics;
  readonly logger?: Logger;
}

/**
 * Establishes who is calling, or refuses: 401 for missing or invalid credentials (the body says
 * which, never why an invalid one failed: that goes to the log with the key's name when known),
 * 503 with Retry-After when a token cannot be checked because the JWKS is unreachable. On success
 * sets `ctx.identity` (the handler records it for `identityOf(req)`). Public pages (the playground)
 * never reach it: the handler runs no caller guard for them.
 */
export function createAuthenticateGuard({ authenticator, metrics, logger }: AuthenticateGuardDeps): Guard {
  const settle = (ctx: GuardContext, result: AuthResult): void => {
    if ('ok' in result) {
      ctx.identity = result.ok;
      metrics?.countCaller(result.ok.name, ctx.endpoint);
      return;
    }
    if ('missing' in result) {
      metrics?.countFailure('missing');
      throw new HttpError(401, MISSING_CREDENTIALS, { 'www-authenticate': 'Bearer' });
    }
    if ('invalid' in result) {
      metrics?.countFailure('invalid');
      logger?.warn({ requestId: ctx.requestId, runnable: ctx.route.path, endpoint: ctx.endpoint, reason: result.invalid }, 'caller refused: invalid credentials');
      throw new HttpError(401, INVALID_CREDENTIALS, { 'www-authenticate': 'Bearer error="invalid_token"' });
    }
    metrics?.countFailure('unavailable');
    logger?.error({ requestId: ctx.requestId, runnable: ctx.route.path, endpoint: ctx.endpoint, reason: result.unavailable }, 'caller not checked: key set unavailable');
    throw new HttpError(503, KEYS_UNAVAILABLE, { 'retry-after': UNAVAILABLE_RETRY_AFTER });
  };

  return {
    name: 'authenticate',
    check(ctx) {
      if (authenticator === undefined) return;
      const result = authenticator.authenticate(ctx.req);
      // API keys answer synchronously: no promise (and no microtask) on that path.
      if (typeof (result as Promise<AuthResult>).then === 'function') return (result as Promise<AuthResult>).then((r) => settle(ctx, r));
      settle(ctx, result as AuthResult);
    },
  };
}
