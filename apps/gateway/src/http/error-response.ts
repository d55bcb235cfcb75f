import { STATUS_CODES } from 'node:http';
import { HttpError } from '../protocol/http-error';
import { ClientDisconnectedError, RequestTimeoutError, ShutdownAbortError } from './abort-reasons';

/** How one failure is answered: the same decision whether the answer is a JSON body or an SSE `error` event. */
export interface ErrorResponse {
  /** HTTP status, or the `status_code` of an SSE error event; 499 when the client left (nothing is sent). */
  readonly status: number;
  /** Client-facing text: an HttpError's own detail, otherwise a generic phrase that reveals nothing. */
  readonly detail: unknown;
  readonly headers: Readonly<Record<string, string>>;
  /** `type` label of runnel_gateway_errors_total. */
  readonly errorType: string;
  /** The failure is the server's (a runnable threw): log it with its stack; the client sees only "Internal Server Error". */
  readonly unexpected: boolean;
}

const NONE: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The gateway's one error-to-response map. `signal` is the run's: when it was aborted, its reason
 * (disconnect, REQUEST_TIMEOUT, shutdown) decides, whatever the runnable threw on its way out.
 */
export function errorResponse(err: unknown, signal?: AbortSignal): ErrorResponse {
  if (err instanceof HttpError) {
    return { status: err.status, detail: err.detail, headers: err.headers, errorType: err.errorType ?? errorTypeOf(err.status), unexpected: false };
  }
  const reason = signal?.aborted ? signal.reason : err;
  if (reason instanceof ClientDisconnectedError) return { status: 499, detail: reason.message, headers: NONE, errorType: 'cancelled', unexpected: false };
  if (reason instanceof RequestTimeoutError) return { status: 504, detail: reason.message, headers: NONE, errorType: 'timeout', unexpected: false };
  if (reason instanceof ShutdownAbortError) return { status: 503, detail: reason.message, headers: { 'retry-after': '1' }, errorType: 'cancelled', unexpected: false };
  return { status: 500, detail: 'Internal Server Error', headers: NONE, errorType: 'runnable', unexpected: true };
}

function errorTypeOf(status: number): string {
  if (status === 400 || status === 413 || status === 414 || status === 422) return 'validation';
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  return 'client';
}

/** The JSON body of an error answer: `detail` as LangServe sends it, `message` for clients that read that, and the request id. */
export function errorBody(e: ErrorResponse, requestId: string): Record<string, unknown> {
  return { detail: e.detail, message: typeof e.detail === 'string' ? e.detail : undefined, request_id: requestId };
}

/** The `message` of an SSE `error` event (LangServe: an HTTPException's detail, otherwise the status phrase). */
export function sseErrorMessage(e: ErrorResponse): string {
  return !e.unexpected && e.status < 500 && typeof e.detail === 'string' ? e.detail : (STATUS_CODES[e.status] ?? 'Error');
}
