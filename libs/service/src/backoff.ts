/**
 * Delay before retry `attempt` (from 0): exponential backoff with full jitter, uniform in
 * [0, base·2^attempt] and capped, so many clients failing together do not retry together.
 * The gateway's model retries and s3-uploader's S3 retries both use it.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs = 30_000, random = Math.random): number {
  return Math.round(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

/**
 * `work`, or its abort: rejects with the signal's reason as soon as `signal` aborts, for waits
 * that take no signal themselves (a client's queued command while it reconnects). The caller
 * stops the work itself on abort (closes the client), so nothing is left running.
 */
export function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
