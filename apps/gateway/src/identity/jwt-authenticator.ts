import { createPublicKey } from 'node:crypto';
import { ConfigError } from '@runnel/config';
import type { CryptoKey, JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import type { AuthResult } from './credentials';
import type { Identity } from '../caller/identity';
import { parseTokenScopes } from '../caller/scopes';

/** Signature algorithms a token may use. No HS*: a shared secret has no place beside a public key (algorithm confusion). */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export const DEFAULT_JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'ES256', 'EdDSA', 'PS256'];

const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_NAME_LENGTH = 256;

export interface JwtOptions {
  /** GATEWAY_JWT_JWKS_URL. Exactly one of jwksUrl and publicKeyPem. */
  readonly jwksUrl?: string;
  /** GATEWAY_JWT_PUBLIC_KEY, as PEM text (SPKI: `-----BEGIN PUBLIC KEY-----`). */
  readonly publicKeyPem?: string;
  /** GATEWAY_JWT_ISSUER: when set, `iss` must equal it. */
  readonly issuer?: string;
  /** GATEWAY_JWT_AUDIENCE: when not empty, `aud` must contain one of them. */
  readonly audience?: readonly string[];
  /** GATEWAY_JWT_NAME_CLAIM: the claim naming the caller. Default `sub`. */
  readonly nameClaim?: string;
  /** GATEWAY_JWT_ALGORITHMS. Default RS256, ES256, EdDSA, PS256. */
  readonly algorithms?: readonly JwtAlgorithm[];
  /** Milliseconds a JWKS fetch may take before the request is answered 503. Default 5000. */
  readonly jwksTimeoutMs?: number;
}

/** The JWKS could not be fetched or parsed: the identity provider's problem, not the caller's. */
class KeySetUnavailable extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

type Jose = typeof import('jose');

// Duck-typed: fetch's errors may come from another realm (undici in Node, a test runner's VM).
function describeFetchError(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown; cause?: { code?: unknown } } | null;
  if (typeof e?.message !== 'string') return String(err);
  if (e.name === 'JWKSTimeout') return 'timed out';
  const code = typeof e.cause?.code === 'string' ? ` (${e.cause.code})` : '';
  return `${e.message}${code}`;
}

/** Algorithms a public key can verify, by key type: an RSA key serves RS* and PS*, an EC key the ES* of its curve. */
function algorithmsForKey(pem: string): { type: string; algorithms: JwtAlgorithm[] } {
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError([{ variable: 'GATEWAY_JWT_PUBLIC_KEY', reason: 'is not a PEM public key (expected -----BEGIN PUBLIC KEY-----, SPKI)' }]);
  }
  const type = key.asymmetricKeyType ?? 'unknown';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  switch (type) {
    case 'rsa':
      return { type: 'RSA', algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] };
    case 'rsa-pss':
      return { type: 'RSA-PSS', algorithms: ['PS256', 'PS384', 'PS512'] };
    case 'ec': {
      const alg = ({ prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' } as const)[curve as string];
      return { type: `EC ${curve}`, algorithms: alg ? [alg] : [] };
    }
    case 'ed25519':
      return { type: 'Ed25519', algorithms: ['EdDSA', 'Ed25519'] };
    default:
      return { type, algorithms: [] };
  }
}

/**
 * JWT bearer tokens, verified with `jose` against a JWKS URL (keys fetched and cached by jose,
 * refetched when a token names an unknown `kid`) or one PEM public key.
 *
 * A token must be signed with an allowed algorithm (never `none` or HS*), carry `exp` (30 s clock
 * tolerance on `exp`/`nbf`), and match GATEWAY_JWT_ISSUER / GATEWAY_JWT_AUDIENCE when they are set.
 * The caller's name is the `sub` claim (or GATEWAY_JWT_NAME_CLAIM). Scopes come from `scope` (a
 * space-separated string, OAuth 2.0) and/or `scp` (an array or a space-separated string), in the
 * gateway's scope grammar; entries for other services (`openid`, `email`) are ignored. **A token
 * with no scopes of ours is still authenticated but may call nothing (every runnable answers 403).**
 */
export class JwtAuthenticator {
  private constructor(
    private readonly jose: Jose,
    private readonly getKey: JWTVerifyGetKey,
    private readonly verifyOptions: JWTVerifyOptions,
    private readonly nameClaim: string,
    /** What the tokens are checked against, for the start-up log: "JWKS <url>" or "public key (EC prime256v1: ES256)". */
    readonly description: string,
  ) {}

  /**
   * @throws ConfigError naming the variable when the options are contradictory, the public key is not
   * one, or no allowed algorithm fits it.
   */
  static async create(options: JwtOptions): Promise<JwtAuthenticator> {
    const { jwksUrl, publicKeyPem } = options;
    if ((jwksUrl === undefined) === (publicKeyPem === undefined)) {
      throw new ConfigError([
        {
          variable: jwksUrl ? 'GATEWAY_JWT_PUBLIC_KEY' : 'GATEWAY_JWT_JWKS_URL',
          reason: jwksUrl ? 'give GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY, not both' : 'JWT checks need GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY',
        },
      ]);
    }
    // Loaded only when JWTs are configured: jose is ESM-only, and nothing else should pay for it.
    const jose = await import('jose');
    let algorithms = [...(options.algorithms ?? DEFAULT_JWT_ALGORITHMS)];
    let getKey: JWTVerifyGetKey;
    let description: string;
    if (jwksUrl !== undefined) {
      const remote = jose.createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 5_000 });
      getKey = async (header, token) => {
        try {
          return await remote(header, token);
        } catch (err) {
          // No key for the token's kid/alg is about the token; anything else is about fetching the set.
          if (err instanceof jose.errors.JWKSNoMatchingKey || err instanceof jose.errors.JWKSMultipleMatchingKeys) throw err;
          throw new KeySetUnavailable(`JWKS ${jwksUrl} could not be used: ${describeFetchError(err)}`);
        }
      };
      description = `JWKS ${jwksUrl}`;
    } else {
      const { type, algorithms: fitting } = algorithmsForKey(publicKeyPem as string);
      const usable = algorithms.filter((a) => fitting.includes(a));
      if (usable.length === 0) {
        throw new ConfigError([
          {
            variable: 'GATEWAY_JWT_ALGORITHMS',
            reason: `allows ${algorithms.join(', ')}, none of which a ${type} key (GATEWAY_JWT_PUBLIC_KEY) verifies${fitting.length ? `; it verifies ${fitting.join(', ')}` : ''}`,
          },
        ]);
      }
      algorithms = usable;
      // importSPKI binds a key to one algorithm: one import per algorithm the key may be used with.
      const keys = new Map<string, CryptoKey>();
      for (const alg of usable) keys.set(alg, await jose.importSPKI(publicKeyPem as string, alg));
      getKey = (header) => keys.get(header.alg as string) as CryptoKey;
      description = `public key (${type}: ${usable.join(', ')})`;
    }
    const verifyOptions: JWTVerifyOptions = {
      algorithms,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp'],
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
      ...(options.audience?.length ? { audience: [...options.audience] } : {}),
    };
    return new JwtAuthenticator(jose, getKey, verifyOptions, options.nameClaim ?? 'sub', description);
  }

  /** Verifies a token. Never throws; never puts the token in a reason. */
  async authenticate(token: string): Promise<AuthResult> {
    let payload: JWTPayload;
    try {
      ({ payload } = await this.jose.jwtVerify(token, this.getKey, this.verifyOptions));
    } catch (err) {
      return this.#refusal(err);
    }
    const name = payload[this.nameClaim];
    if (typeof name !== 'string' || name === '' || name.length > MAX_NAME_LENGTH) {
      return { invalid: `token has no "${this.nameClaim}" claim naming the caller (a string of 1 to ${MAX_NAME_LENGTH} characters)` };
    }
    const identity: Identity = Object.freeze({
      name,
      kind: 'jwt',
      scopes: parseTokenScopes(tokenScopes(payload)).scopes,
      claims: Object.freeze(payload),
    });
    return { ok: identity };
  }

  #refusal(err: unknown): AuthResult {
    const { errors } = this.jose;
    if (err instanceof KeySetUnavailable) return { unavailable: err.why };
    if (err instanceof errors.JWTExpired) return { invalid: 'token expired' };
    if (err instanceof errors.JWTClaimValidationFailed) return { invalid: `token refused: ${err.message}` };
    if (err instanceof errors.JWSSignatureVerificationFailed) return { invalid: 'token signature does not verify' };
    if (err instanceof errors.JOSEAlgNotAllowed) return { invalid: 'token algorithm not allowed (GATEWAY_JWT_ALGORITHMS)' };
    if (err instanceof errors.JWKSNoMatchingKey) return { invalid: 'no key in the JWKS matches the token (kid/alg)' };
    if (err instanceof errors.JOSEError) return { invalid: `token refused: ${err.code}: ${err.message}` };
    // A malformed token can make a parser throw a plain TypeError; it is still the token's fault.
    return { invalid: `token refused (${String((err as { name?: unknown } | null)?.name ?? 'error')})` };
  }
}

function tokenScopes(payload: JWTPayload): string[] {
  const out: string[] = [];
  for (const claim of [payload.scope, payload.scp]) {
    if (typeof claim === 'string') out.push(...claim.split(' '));
    else if (Array.isArray(claim)) for (const s of claim) if (typeof s === 'string') out.push(s);
  }
  return out;
}
