import { backoffDelay, delay } from '@runnel/service';

/** Options for `retryWithBackoff`. */
export interface RetryOptions {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Errors for which another attempt cannot help (conflicts, bad requests): rethrown at once. */
  isFatal: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

/** Runs `fn` until it succeeds, with exponential backoff and full jitter between attempts. */
export async function retryWithBackoff<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (o.isFatal(err) || attempt >= o.maxRetries || o.signal?.aborted) throw err;
      const wait = backoffDelay(attempt, o.baseDelayMs, o.maxDelayMs);
      o.onRetry?.(err, attempt + 1, wait);
      await delay(wait, o.signal); // an abort ends the backoff now
    }
  }
}
