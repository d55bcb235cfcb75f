import { readFileSync } from 'node:fs';
import { type ConfigOf, ConfigError, env, type Secret } from '@runnel/config';
import type { Logger } from '@runnel/telemetry';
import { z } from 'zod';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { CallerAuthenticator } from './caller-authenticator';
import { DEFAULT_JWT_ALGORITHMS, JWT_ALGORITHMS, type JwtAlgorithm, JwtAuthenticator } from './jwt-authenticator';

/** The callers' environment variables (spread into GatewayConfigSchema); see docs/deployment.md for the table. */
export const IdentityConfig = {
  /**
   * Path of a JSON file of named API keys: `{"keys": [{"name": "support-bot", "sha256": "<hex SHA-256 of the
   * key>", "scopes": ["chat:run", "echo:*"], "requests_per_minute": 600, "concurrency": 10}]}`. Each key gives
   * `sha256` (recommended: the file then holds no usable secret; `printf %s "$KEY" | sha256sum`) or `key` (the
   * key itself), scopes `<runnable>:<endpoint>` (`*`, `agents/*`, groups `run` and `schema`), and optionally its
   * own rate limit, concurrency quota and `"disabled": true`. Keys are sent as `Authorization: Bearer <key>` or
   * `X-API-Key: <key>`; logs, metrics and run metadata show the name. Start-up fails on an invalid file;
   * SIGHUP re-reads it (an invalid new file is logged and the old keys stay). Works beside GATEWAY_API_KEYS.
   */
  GATEWAY_API_KEYS_FILE: env.optionalStr(),
  /**
   * URL of the JSON Web Key Set that signs callers' JWT bearer tokens (e.g.
   * `https://idp.example.com/.well-known/jwks.json`); keys are cached and refetched for an unknown `kid`. When
   * it cannot be fetched (5 s timeout) a token is answered 503 with Retry-After, not 401. Give this or
   * GATEWAY_JWT_PUBLIC_KEY, not both.
   */
  GATEWAY_JWT_JWKS_URL: env.url({ optional: true }),
  /**
   * Public key (PEM, `-----BEGIN PUBLIC KEY-----`; `\n` escapes accepted) or the path of a PEM file, that
   * verifies callers' JWT bearer tokens; the algorithms are those of the key type within
   * GATEWAY_JWT_ALGORITHMS. Not a secret. Give this or GATEWAY_JWT_JWKS_URL, not both.
   */
  GATEWAY_JWT_PUBLIC_KEY: env.optionalStr(),
  /** When set, a token's `iss` must equal it (else 401). Needs GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY. */
  GATEWAY_JWT_ISSUER: env.optionalStr(),
  /**
   * Comma-separated audiences; when set, a token's `aud` must contain one of them (else 401). Set it when the
   * identity provider issues tokens for other applications too, or their tokens are accepted here.
   */
  GATEWAY_JWT_AUDIENCE: env.list(),
  /**
   * Token claim naming the caller (in logs, metrics, run metadata and 403 messages); a token without it, as a
   * string, is refused with 401.
   */
  GATEWAY_JWT_NAME_CLAIM: env.str('sub'),
  /**
   * Comma-separated signature algorithms a token may use, from RS256, RS384, RS512, PS256, PS384, PS512, ES256,
   * ES384, ES512, EdDSA or Ed25519 (`none` and HS* never). Tokens must carry `exp` (30 s clock tolerance), and
   * their scopes in `scope` (space-separated) or `scp` (array) in the grammar of GATEWAY_API_KEYS_FILE: a token
   * with none can call nothing (403).
   */
  GATEWAY_JWT_ALGORITHMS: env
    .list([...DEFAULT_JWT_ALGORITHMS])
    .pipe(
      z
        .array(z.enum(JWT_ALGORITHMS, { error: () => `must list only ${JWT_ALGORITHMS.join(', ')}` }))
        .min(1, 'must list at least one algorithm'),
    ) as unknown as z.ZodType<JwtAlgorithm[]>,
};

export type IdentityConfigValues = ConfigOf<typeof IdentityConfig>;

/** What createAuthenticators reads: the fragment above plus the existing GATEWAY_API_KEYS. */
export type AuthConfig = IdentityConfigValues & { readonly GATEWAY_API_KEYS?: Secret<string[]> };

/** PEM text as given (literal `\n` from a one-line env value turned into newlines), or the contents of the file it names. */
function readPublicKey(value: string): string {
  if (value.includes('-----BEGIN')) return value.replace(/\\n/g, '\n');
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new ConfigError([
      { variable: 'GATEWAY_JWT_PUBLIC_KEY', reason: `is neither PEM text (-----BEGIN PUBLIC KEY-----) nor a readable file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})` },
    ]);
  }
}

/**
 * Builds the caller authenticator from the configuration, for the authenticate guard. Undefined when
 * none of GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE, GATEWAY_JWT_JWKS_URL, GATEWAY_JWT_PUBLIC_KEY is set:
 * auth is off. Logs what it found (key names and counts, never keys).
 * @throws ConfigError naming the variable: both a JWKS URL and a public key, issuer/audience without either,
 * a public key that is not one or that no allowed algorithm fits, GATEWAY_API_KEYS listing a key twice.
 * @throws ApiKeysFileError when GATEWAY_API_KEYS_FILE is unreadable or invalid (names the file and entry).
 */
export async function createAuthenticators(config: AuthConfig, logger?: Logger): Promise<CallerAuthenticator | undefined> {
  const jwksUrl = config.GATEWAY_JWT_JWKS_URL;
  const publicKey = config.GATEWAY_JWT_PUBLIC_KEY;
  if (jwksUrl !== undefined && publicKey !== undefined) {
    throw new ConfigError([{ variable: 'GATEWAY_JWT_PUBLIC_KEY', reason: 'give GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY, not both' }]);
  }
  const jwtOn = jwksUrl !== undefined || publicKey !== undefined;
  if (!jwtOn) {
    const stray = (['GATEWAY_JWT_ISSUER', 'GATEWAY_JWT_AUDIENCE'] as const).filter((v) => (v === 'GATEWAY_JWT_AUDIENCE' ? config[v].length > 0 : config[v] !== undefined));
    if (stray.length > 0) {
      throw new ConfigError(stray.map((variable) => ({ variable, reason: 'has no effect without GATEWAY_JWT_JWKS_URL or GATEWAY_JWT_PUBLIC_KEY' })));
    }
  }

  const envKeys = config.GATEWAY_API_KEYS;
  const file = config.GATEWAY_API_KEYS_FILE;
  const apiKeys = file !== undefined || (envKeys?.reveal().length ?? 0) > 0 ? new ApiKeyAuthenticator({ file, envKeys }) : undefined;

  const jwt = jwtOn
    ? await JwtAuthenticator.create({
        jwksUrl,
        publicKeyPem: publicKey === undefined ? undefined : readPublicKey(publicKey),
        issuer: config.GATEWAY_JWT_ISSUER,
        audience: config.GATEWAY_JWT_AUDIENCE,
        nameClaim: config.GATEWAY_JWT_NAME_CLAIM,
        algorithms: config.GATEWAY_JWT_ALGORITHMS,
      })
    : undefined;

  if (!apiKeys && !jwt) return undefined;
  if (apiKeys) {
    const s = apiKeys.summary;
    logger?.info({ apiKeysFile: file, keys: s.fromFile, disabled: s.disabled, envKeys: s.fromEnv }, `caller auth: ${s.fromFile.length + s.fromEnv} API keys`);
    if (s.plaintext.length > 0) {
      logger?.warn({ keys: s.plaintext }, 'GATEWAY_API_KEYS_FILE holds these keys in plaintext ("key"); prefer "sha256" so the file holds no usable secret');
    }
  }
  if (jwt) {
    logger?.info({ verifier: jwt.description, issuer: config.GATEWAY_JWT_ISSUER, audience: config.GATEWAY_JWT_AUDIENCE, nameClaim: config.GATEWAY_JWT_NAME_CLAIM }, 'caller auth: JWT bearer tokens');
    if (config.GATEWAY_JWT_AUDIENCE.length === 0) {
      logger?.warn('GATEWAY_JWT_AUDIENCE is not set: any token the identity provider signs, for any application, is accepted');
    }
  }
  return new CallerAuthenticator(apiKeys, jwt);
}
