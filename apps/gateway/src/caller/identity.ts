import type { IncomingMessage } from 'node:http';
import type { Scopes } from './scopes';

/** Per-identity overrides of the default rate limit and concurrency quota (GATEWAY_RATE_LIMIT, GATEWAY_CALLER_CONCURRENCY). */
export interface CallerLimits {
  readonly requestsPerMinute?: number;
  readonly concurrency?: number;
}

/** Who is calling: the result of authentication, carried by the request to the guards, the config modifier and run metadata. */
export interface Identity {
  /**
   * Stable, non-secret name: the key's `name` from the keys file, `env-key-<n>` for GATEWAY_API_KEYS, the JWT's
   * `sub` (or GATEWAY_JWT_NAME_CLAIM). Used in logs, metrics labels and run metadata.
   */
  readonly name: string;
  readonly kind: 'api_key' | 'jwt';
  readonly scopes: Scopes;
  readonly limits?: CallerLimits;
  /** The JWT payload (verified), for the per-request config modifier. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

// A private field rather than a property on the request: nothing downstream (a user's middleware, a
// runnable's modifier) can see, set or overwrite it by assigning to `req`, and it goes with the
// request, as a WeakMap entry would. Installed with the "return override" of a base constructor
// (a class may add its private fields to any object its base constructor returns); a WeakMap set
// per request was about 1 µs under load (docs/benchmarks.md), a private field costs what a property does.
class Carrier {
  constructor(target: object) {
    return target;
  }
}

class IdentityStamp extends Carrier {
  #identity: Identity | undefined;

  private constructor(req: IncomingMessage, identity: Identity) {
    super(req);
    this.#identity = identity;
  }

  static set(req: IncomingMessage, identity: Identity): void {
    // As WeakMap.set: only an object can carry one.
    if (!isObject(req)) throw new TypeError('setIdentity: the request must be an object');
    if (#identity in req) (req as unknown as IdentityStamp).#identity = identity;
    else new IdentityStamp(req, identity);
  }

  static get(req: IncomingMessage): Identity | undefined {
    return isObject(req) && #identity in req ? (req as unknown as IdentityStamp).#identity : undefined;
  }
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** Records who sent `req`; the authenticate guard calls it once the credentials are checked. */
export function setIdentity(req: IncomingMessage, identity: Identity): void {
  IdentityStamp.set(req, identity);
}

/** The caller of `req`, or undefined when auth is off (or the request was not authenticated). */
export function identityOf(req: IncomingMessage): Identity | undefined {
  return IdentityStamp.get(req);
}
