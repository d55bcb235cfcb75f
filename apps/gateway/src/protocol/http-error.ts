/**
 * Thrown anywhere in request handling to answer with a client-facing status and `detail`.
 * Only 4xx (and the 503/504 the gateway decides itself) carry their text to the client;
 * unexpected errors become a generic 500 (see http/error-response.ts).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly headers: Record<string, string> = {},
    /** The `type` label of runnel_gateway_errors_total; by default derived from the status (error-response.ts). */
    readonly errorType?: string,
  ) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.name = 'HttpError';
  }
}

/** Thrown when the request body is not valid JSON or does not match the endpoint's shape. */
export class RequestValidationError extends HttpError {
  constructor(detail: unknown) {
    super(422, detail);
    this.name = 'RequestValidationError';
  }
}
