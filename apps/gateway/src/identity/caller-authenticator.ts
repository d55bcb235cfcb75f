import type { IncomingMessage } from 'node:http';
import type { ApiKeyAuthenticator, ApiKeysSummary } from './api-key-authenticator';
import { type AuthResult, looksLikeJwt, presentedCredential } from './credentials';
import type { JwtAuthenticator } from './jwt-authenticator';

/**
 * Every way a caller can prove who it is, tried in one order: the presented credential (Bearer
 * first, then X-API-Key) is looked up as an API key; if it is not one and it came as a Bearer value
 * shaped like a JWT, it is verified as a token. So API keys and JWTs can be enabled together, and a
 * key that happens to contain two dots still works as a key.
 */
export class CallerAuthenticator {
  constructor(
    readonly apiKeys: ApiKeyAuthenticator | undefined,
    readonly jwt: JwtAuthenticator | undefined,
  ) {}

  /**
   * The caller of `req`. Synchronous for API keys (no promise on that path); a promise only when a
   * token is verified.
   */
  authenticate(req: IncomingMessage): AuthResult | Promise<AuthResult> {
    const credential = presentedCredential(req);
    if (credential === undefined) return { missing: true };
    const asKey = this.apiKeys?.authenticateKnown(credential.value);
    if (asKey !== undefined) return asKey;
    const tokenShaped = credential.header === 'authorization' && looksLikeJwt(credential.value);
    if (this.jwt && tokenShaped) return this.jwt.authenticate(credential.value);
    if (!this.apiKeys) return { invalid: credential.header === 'x-api-key' ? 'X-API-Key sent but no API keys are configured (JWT only)' : 'bearer value is not a JWT' };
    return { invalid: 'unknown API key' };
  }

  /**
   * Re-reads GATEWAY_API_KEYS_FILE (wire to SIGHUP). Undefined when there is no file to re-read.
   * @throws ApiKeysFileError when the new file is invalid; the keys in use stay.
   */
  reload(): ApiKeysSummary | undefined {
    if (!this.apiKeys?.sources.file) return undefined;
    return this.apiKeys.reload();
  }
}
