import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The services' two waits, one each: `delay` for a wait whose abort is an error (a retry's
 * backoff, a model's simulated latency: the caller stops with the signal's reason), `pause` for a
 * wait whose abort just ends it (a reader's idle pause). Both drop their abort listener when they
 * end: a long-lived signal waited on once per event must not collect one per wait.
 */

/**
 * Waits `ms`, or less: an abort ends the wait at once, rejecting with the signal's reason. Retry
 * loops sleep through this so that a SIGTERM during start-up stops them now, not after the backoff.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  // Node's timer rejects with an AbortError; callers stop with the signal's own reason.
  return sleep(ms, undefined, { signal }).catch((err: unknown) => {
    throw signal?.aborted ? signal.reason : err;
  });
}

/**
 * Waits `ms`, or until `signal` aborts; never rejects. Node's timer drops its abort listener when
 * it fires: sleeps that left one listener on the reader's signal per call piled up 480,000 of
 * them in a 4-minute soak at 2,000 events/s (the paced synthetic source pauses once per event),
 * and adding each one scanned the others (90 % of a core).
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}
