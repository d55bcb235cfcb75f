import { RequestTimeoutError, ShutdownAbortError } from './abort-reasons';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The runs one gateway instance has in flight: the MAX_CONCURRENT_REQUESTS cap, the draining flag
 * set at shutdown, the abort handle of every run so the drain can cancel stragglers, and
 * REQUEST_TIMEOUT.
 *
 * REQUEST_TIMEOUT uses one timer for all runs rather than a setTimeout/clearTimeout pair per run
 * (about 1–2 µs per request: docs/benchmarks.md). Every run gets the same timeout, so deadlines come
 * in the order runs enter, and the Map (which iterates in insertion order) is a queue sorted by
 * deadline: the timer waits for the oldest run's deadline, aborts what has expired when it fires,
 * then waits for the next one. A run that ends just leaves the Map.
 */
export class Admission {
  /** Run → its deadline (performance.now() ms), oldest first. */
  readonly #running = new Map<AbortController, number>();
  /** Runs aborted at their deadline whose response has not closed yet: still in flight. */
  readonly #expired = new Set<AbortController>();
  #draining: Promise<void> | undefined;
  #idle: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** `requestTimeoutMs`: REQUEST_TIMEOUT; a run still going after it is aborted with RequestTimeoutError. */
  constructor(
    readonly maxConcurrent: number,
    readonly requestTimeoutMs = Number.POSITIVE_INFINITY,
  ) {}

  get inFlight(): number {
    return this.#running.size + this.#expired.size;
  }

  get draining(): boolean {
    return this.#draining !== undefined;
  }

  get full(): boolean {
    return this.#running.size + this.#expired.size >= this.maxConcurrent;
  }

  /** `now`: performance.now() when the run starts (its deadline is REQUEST_TIMEOUT after it). */
  enter(run: AbortController, now = performance.now()): void {
    this.#running.set(run, now + this.requestTimeoutMs);
    if (this.#timer === undefined && Number.isFinite(this.requestTimeoutMs)) this.#arm(this.requestTimeoutMs);
  }

  leave(run: AbortController): void {
    if (!this.#running.delete(run)) this.#expired.delete(run);
    // The timer is left to fire (it is unref'd, and finds nothing to do): clearing and re-arming it
    // whenever the gateway goes idle would cost what one timer per run did.
    if (this.inFlight === 0) this.#idle?.();
  }

  /**
   * Refuses new runs from now on; resolves when the last run in flight has ended, cancelling what is
   * still running after `graceMs`. Later calls wait for the same drain.
   */
  drain(graceMs: number, onGraceOver?: (inFlight: number) => void): Promise<void> {
    this.#draining ??= new Promise<void>((resolve) => {
      if (this.inFlight === 0) return resolve();
      const timer = setTimeout(() => {
        onGraceOver?.(this.inFlight);
        this.#abortAll(new ShutdownAbortError());
      }, graceMs);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    return this.#draining;
  }

  #arm(delayMs: number): void {
    // node's timers have millisecond resolution and may fire a fraction of a millisecond before
    // performance.now() reaches the deadline: what has not expired yet gets the timer again.
    // (A delay past 2^31 - 1 ms would fire at once: waiting the most node allows comes back here.)
    this.#timer = setTimeout(() => this.#expire(), Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(delayMs))));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const [run, deadline] of this.#running) {
      if (deadline > now) return this.#arm(deadline - now);
      // Still in flight until its response closes (leave).
      this.#running.delete(run);
      this.#expired.add(run);
      run.abort(new RequestTimeoutError(this.requestTimeoutMs));
    }
  }

  #abortAll(reason: Error): void {
    for (const run of [...this.#running.keys(), ...this.#expired]) run.abort(reason);
  }
}
