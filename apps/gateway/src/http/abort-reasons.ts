/** Abort reason when REQUEST_TIMEOUT passes: the client gets 504 (or an SSE error event). */
export class RequestTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`Run exceeded the request timeout of ${timeoutMs / 1000} s`);
    this.name = 'RequestTimeoutError';
  }
}

/** Abort reason when the client closes the connection before the response is finished; nothing is sent. */
export class ClientDisconnectedError extends Error {
  constructor() {
    super('Client disconnected');
    this.name = 'ClientDisconnectedError';
  }
}

/** Abort reason when the gateway drains past its grace period and cancels the runs still going. */
export class ShutdownAbortError extends Error {
  constructor() {
    super('Gateway is shutting down');
    this.name = 'ShutdownAbortError';
  }
}
