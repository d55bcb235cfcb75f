/**
 * Per-caller rate limits and concurrency quotas, behind one interface with two stores: memory (one
 * gateway instance) and Redis (shared by every replica).
 *
 * Rate algorithm: GCRA (the generic cell rate algorithm, as redis-cell and `throttled` use) over a
 * 60 s window with a burst of the whole limit. A caller with 600 requests per minute may send 600
 * at once, then earns one back every 100 ms. So a sliding minute can hold up to about twice the
 * limit (600 at the end of one minute's budget, then the ~600 earned back over the next 60 s), as
 * with any token bucket of that burst; what GCRA bounds is the long-run rate. The state is one
 * timestamp per caller (the theoretical arrival time): cheap and exact.
 *
 * Concurrency: a caller's slots are leases that expire unless their holder renews them (a timer
 * while the slot is held), so a replica that dies mid-request frees its slots after one lease.
 */
export interface RatePolicy {
  /** Requests per minute, > 0 (0 = no limit is the guard's business: it does not ask then). */
  readonly requestsPerMinute: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** The policy's requests per minute. */
  readonly limit: number;
  /** Requests the caller may still send right now (after this one, when allowed). */
  readonly remaining: number;
  /** Whole seconds until the caller's budget is full again (`limit` remaining). */
  readonly resetSeconds: number;
  /** Whole seconds (≥ 1) until one more request fits when refused; 0 when allowed. */
  readonly retryAfterSeconds: number;
}

export interface SlotHeld {
  readonly ok: true;
  /** Gives the slot back and stops renewing it. Never rejects; calling it twice is harmless. */
  release(): Promise<void>;
}

export interface SlotRefused {
  readonly ok: false;
  /** Slots of this caller in use (across replicas for the Redis store). */
  readonly inUse: number;
  /** A hint only: slots free when requests end, which nobody can foresee; always 1. */
  readonly retryAfterSeconds: number;
}

export type SlotDecision = SlotHeld | SlotRefused;

export interface CallerLimiter {
  /**
   * Counts one request of `caller` against its rate budget.
   * @throws LimiterUnavailableError when the store cannot answer (Redis down or slower than its
   * command timeout); the guard decides what that means (it fails open).
   */
  takeRequest(caller: string, policy: RatePolicy): Promise<RateDecision>;
  /**
   * Takes one of `max` (> 0) concurrent slots of `caller`, leased for `leaseMs` and renewed while
   * held, until `release()`.
   * @throws LimiterUnavailableError as takeRequest does.
   */
  acquireSlot(caller: string, max: number, leaseMs?: number): Promise<SlotDecision>;
  /** Stops renewing held slots (they expire after their lease) and closes the store's connection, if owned. */
  close(): Promise<void>;
}

/** Operations of a limiter that can fail against its store (the `operation` label of the error metric). */
export type LimiterOperation = 'take' | 'acquire' | 'renew' | 'release';

/**
 * Thrown by `takeRequest` and `acquireSlot` when the store cannot answer: Redis unreachable, or no
 * reply within the command timeout. Its message names the operation and the cause, never a URL.
 */
export class LimiterUnavailableError extends Error {
  constructor(
    readonly operation: LimiterOperation,
    cause: unknown,
  ) {
    super(`caller limiter could not ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'LimiterUnavailableError';
  }
}

/** Called when renewing or releasing a slot fails in the background (no caller awaits it to see). */
export type LimiterErrorHandler = (operation: LimiterOperation, err: unknown) => void;

export const RATE_WINDOW_MS = 60_000;
/** Long enough that a stalled event loop (GC, a busy core) does not lose a slot; renewed every third of it. */
export const DEFAULT_LEASE_MS = 30_000;
/** Every concurrency refusal's Retry-After: see SlotRefused.retryAfterSeconds. */
export const SLOT_RETRY_AFTER_SECONDS = 1;

/**
 * GCRA's emission interval in whole microseconds (window / limit, rounded down, at least 1), so the
 * arithmetic is exact in doubles; the burst is interval × limit, a hair under 60 s at most.
 */
export function emissionIntervalUs(requestsPerMinute: number): number {
  return Math.max(1, Math.floor((RATE_WINDOW_MS * 1000) / requestsPerMinute));
}

/** How often a held slot's lease is renewed: a third of it, so two renewals may fail before it lapses. */
export function renewEveryMs(leaseMs: number): number {
  return Math.max(1, Math.floor(leaseMs / 3));
}

/** Builds a RateDecision from the store's reply (milliseconds). */
export function rateDecision(limit: number, allowed: boolean, remaining: number, resetMs: number, retryAfterMs: number): RateDecision {
  return {
    allowed,
    limit,
    remaining: Math.max(0, Math.min(limit, remaining)),
    resetSeconds: Math.max(0, Math.ceil(resetMs / 1000)),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(retryAfterMs / 1000)),
  };
}

/**
 * A held slot's renewal loop and its one-shot release. The timer is unref'd (a held slot must not
 * keep the process alive) and stops on release or when the limiter closes.
 */
export class SlotLease implements SlotHeld {
  readonly ok = true;
  #timer: NodeJS.Timeout | undefined;
  #released: Promise<void> | undefined;

  constructor(
    leaseMs: number,
    private readonly renew: () => Promise<void>,
    private readonly give: () => Promise<void>,
    private readonly onEnd: (lease: SlotLease) => void,
  ) {
    this.#timer = setInterval(() => void this.renew(), renewEveryMs(leaseMs));
    this.#timer.unref();
  }

  release(): Promise<void> {
    this.#released ??= (async () => {
      this.stop();
      await this.give();
    })();
    return this.#released;
  }

  /** Stops renewing without giving the slot back (the limiter is closing: the lease runs out). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.onEnd(this);
  }
}
