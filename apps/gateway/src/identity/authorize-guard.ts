import type { Logger } from '@runnel/telemetry';
import type { Guard } from '../http/guard';
import { HttpError } from '../protocol/http-error';
import type { Identity } from '../caller/identity';
import type { IdentityMetrics } from './identity-metrics';

/** The 403 detail: who, what, where. Names are not secret; the credential never appears. */
export function forbiddenDetail(identity: Identity, endpoint: string, runnablePath: string): string {
  const who = identity.kind === 'api_key' ? 'API key' : 'Token subject';
  return `${who} ${JSON.stringify(identity.name)} may not call ${endpoint} on ${JSON.stringify(`/${runnablePath}`)}`;
}

export interface AuthorizeGuardDeps {
  readonly metrics?: IdentityMetrics;
  readonly logger?: Logger;
}

/**
 * Refuses with 403 a caller whose scopes do not allow the endpoint on the route's runnable. Runs
 * after authenticate; with auth off (no identity) every request passes.
 */
export function createAuthorizeGuard({ metrics, logger }: AuthorizeGuardDeps = {}): Guard {
  return {
    name: 'authorize',
    check(ctx) {
      const { identity } = ctx;
      if (identity === undefined) return;
      if (identity.scopes.allows(ctx.route.path, ctx.endpoint)) return;
      metrics?.countFailure('forbidden');
      logger?.info({ requestId: ctx.requestId, caller: identity.name, runnable: ctx.route.path, endpoint: ctx.endpoint, scopes: identity.scopes.list }, 'caller refused: scope');
      throw new HttpError(403, forbiddenDetail(identity, ctx.endpoint, ctx.route.path));
    },
  };
}
