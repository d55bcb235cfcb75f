import type { RateDecision } from './caller-limiter';

/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers, -09 and later): both are
 * Structured Field lists of one item, the policy's name as a string with parameters:
 *   RateLimit-Policy: "requests";q=600;w=60   quota q per window w seconds
 *   RateLimit: "requests";r=12;t=5            r remaining, t seconds until the quota is whole again
 * Names are lower-case: the gateway writes header lists straight into writeHead, and HTTP/2 wants them so.
 */
export const RATE_POLICY_NAME = 'requests';

export function rateLimitHeaders(decision: RateDecision, windowSeconds = 60): Record<string, string> {
  return {
    'ratelimit-policy': `"${RATE_POLICY_NAME}";q=${decision.limit};w=${windowSeconds}`,
    ratelimit: `"${RATE_POLICY_NAME}";r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}

/** Retry-After as delay-seconds (RFC 9110 §10.2.3): a whole number, at least 1 so no client retries at once. */
export function retryAfterHeader(seconds: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(seconds))) };
}
