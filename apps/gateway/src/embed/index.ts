// The gateway as a library: add LangServe routes to your own app (see docs/embedding.md).
export { addRoutes, type MiddlewareHost } from './add-routes';
export { EmbeddedGateway, type EmbeddedGatewayOptions } from './embedded-gateway';
export type { RouteOptions, PerRequestConfigModifier } from '../registry/route-options';
export { HttpError } from '../protocol/http-error';
// Caller guards, for `callerGuards`: the standalone gateway's identities, scopes and per-caller limits.
export type { Guard, GuardContext } from '../http/guard';
export { type CallerLimits, type Identity, identityOf } from '../caller/identity';
export { parseScopes, Scopes } from '../caller/scopes';
export { createAuthenticators } from '../identity/identity-config';
export { createAuthenticateGuard } from '../identity/authenticate-guard';
export { createAuthorizeGuard } from '../identity/authorize-guard';
export { IdentityMetrics } from '../identity/identity-metrics';
export { createCallerLimiter } from '../limits/limits-config';
export { LimitMetrics } from '../limits/limit-metrics';
export { RateLimitGuard } from '../limits/rate-limit-guard';
