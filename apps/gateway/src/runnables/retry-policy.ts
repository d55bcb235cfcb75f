/** HTTP statuses worth another attempt: rate limits, timeouts and server-side failures. */
const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
/** The OpenAI and Anthropic SDKs' errors for network failures with no status (matched by name or class name). */
const CONNECTION_ERRORS = new Set<unknown>(['APIConnectionError', 'APIConnectionTimeoutError']);

/** Thrown (as an abort reason) when one model attempt exceeds LLM_TIMEOUT. Retryable. */
export class ModelTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`Model call exceeded LLM_TIMEOUT of ${timeoutMs / 1000} s`);
    this.name = 'ModelTimeoutError';
  }
}

/** The HTTP status a provider SDK's error carries (`status`, `response.status` or `statusCode`), if any. */
export function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; response?: { status?: unknown }; statusCode?: unknown };
  for (const s of [e?.status, e?.response?.status, e?.statusCode]) if (typeof s === 'number') return s;
  return undefined;
}

/**
 * Whether a failed model call is worth retrying. Client errors (bad request, bad key, unknown
 * model) are not: retrying them only delays the same answer. Cancellation by the caller never is.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ModelTimeoutError) return true;
  const status = statusOf(err);
  if (status !== undefined) return RETRYABLE_STATUS.has(status);
  // Network failures arrive wrapped: the OpenAI and Anthropic SDKs raise APIConnectionError (whose
  // `name` is plain "Error") with cause TypeError("fetch failed"), whose own cause has the socket
  // code (UND_ERR_SOCKET, ECONNRESET, …). So look down the cause chain, not just one level.
  let e = err as { code?: unknown; cause?: unknown; name?: unknown; message?: unknown } | null | undefined;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    if (typeof e.code === 'string' && RETRYABLE_CODES.has(e.code)) return true;
    if (CONNECTION_ERRORS.has(e.name) || CONNECTION_ERRORS.has(e.constructor?.name)) return true;
    if (e.message === 'fetch failed') return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Longest Retry-After the gateway honours; beyond it the request timeout is the better judge. */
const MAX_RETRY_AFTER_MS = 60_000;

/** The provider's Retry-After (seconds or an HTTP date) from an SDK error, in ms; capped. */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  const headers = (err as { headers?: unknown })?.headers;
  let value: unknown;
  if (headers && typeof (headers as Headers).get === 'function') value = (headers as Headers).get('retry-after');
  else if (headers && typeof headers === 'object') value = (headers as Record<string, unknown>)['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
