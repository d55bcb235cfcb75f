import { rateLimitHeaders, retryAfterHeader } from './ratelimit-headers';

describe('RateLimit header fields (draft-ietf-httpapi-ratelimit-headers)', () => {
  it('names the policy with its quota and window, and the remaining quota with seconds until it is whole', () => {
    expect(rateLimitHeaders({ allowed: true, limit: 600, remaining: 12, resetSeconds: 5, retryAfterSeconds: 0 })).toEqual({
      'ratelimit-policy': '"requests";q=600;w=60',
      ratelimit: '"requests";r=12;t=5',
    });
  });

  it('says r=0 when refused', () => {
    expect(rateLimitHeaders({ allowed: false, limit: 3, remaining: 0, resetSeconds: 60, retryAfterSeconds: 20 }).ratelimit).toBe('"requests";r=0;t=60');
  });

  it('gives Retry-After as whole seconds, at least 1', () => {
    expect(retryAfterHeader(3)).toEqual({ 'retry-after': '3' });
    expect(retryAfterHeader(2.2)).toEqual({ 'retry-after': '3' });
    expect(retryAfterHeader(0)).toEqual({ 'retry-after': '1' });
  });
});
