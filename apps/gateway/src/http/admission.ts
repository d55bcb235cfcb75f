import { RequestTimeoutError, ShutdownAbortError } from './abort-reasons';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One run in flight, as Admission tracks it: its abort handle and deadline, linked into the queue of
 * runs in the order they entered. `enter` hands it out, `leave` takes it back.
 */
export class AdmissionTicket {
  prev: AdmissionTicket | undefined = undefined;
  next: AdmissionTicket | undefined = undefined;
  /** Aborted at its deadline and out of the queue, but in flight until it leaves. */
  expired = false;
  left = false;

  constructor(
    readonly run: AbortController,
    /** performance.now() ms. */
    readonly deadline: number,
  ) {}
}

/**
 * The runs one gateway instance has in flight: the MAX_CONCURRENT_REQUESTS cap, the draining flag
 * set at shutdown, the abort handle of every run so the drain can cancel stragglers, and
 * REQUEST_TIMEOUT.
 *
 * REQUEST_TIMEOUT uses one timer for all runs rather than a setTimeout/clearTimeout pair per run
 * (about 1–2 µs per request: docs/benchmarks.md). Every run gets the same timeout, so deadlines come
 * in the order runs enter, and the queue of tickets is sorted by deadline: the timer waits for the
 * oldest run's deadline, aborts what has expired when it fires, then waits for the next one.
 *
 * The queue is a linked list of the tickets themselves, not a Map or Set: a long-lived Map that
 * gains and loses an entry per request reallocates its hash table whenever its size crosses a
 * grow or shrink threshold, those tables outlive two scavenges (they hang off an old object) and
 * are promoted, and under load that was most of what the gateway promoted to the old generation,
 * paid for in Mark-Compacts (docs/benchmarks.md, issue 9). A ticket dies young with its request.
 */
export class Admission {
  /** Runs not yet expired, oldest (earliest deadline) first. */
  #head: AdmissionTicket | undefined;
  #tail: AdmissionTicket | undefined;
  #running = 0;
  /** Runs aborted at their deadline whose response has not closed yet: still in flight. */
  #expired = 0;
  #draining: Promise<void> | undefined;
  #idle: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** `requestTimeoutMs`: REQUEST_TIMEOUT; a run still going after it is aborted with RequestTimeoutError. */
  constructor(
    readonly maxConcurrent: number,
    readonly requestTimeoutMs = Number.POSITIVE_INFINITY,
  ) {}

  get inFlight(): number {
    return this.#running + this.#expired;
  }

  get draining(): boolean {
    return this.#draining !== undefined;
  }

  get full(): boolean {
    return this.#running + this.#expired >= this.maxConcurrent;
  }

  /** `now`: performance.now() when the run starts (its deadline is REQUEST_TIMEOUT after it). */
  enter(run: AbortController, now = performance.now()): AdmissionTicket {
    const ticket = new AdmissionTicket(run, now + this.requestTimeoutMs);
    ticket.prev = this.#tail;
    if (this.#tail) this.#tail.next = ticket;
    else this.#head = ticket;
    this.#tail = ticket;
    this.#running++;
    if (this.#timer === undefined && Number.isFinite(this.requestTimeoutMs)) this.#arm(this.requestTimeoutMs);
    return ticket;
  }

  /** The run of `ticket` is over (its response closed); a second call for the same ticket does nothing. */
  leave(ticket: AdmissionTicket): void {
    if (ticket.left) return;
    ticket.left = true;
    if (ticket.expired) this.#expired--;
    else {
      this.#unlink(ticket);
      this.#running--;
    }
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

  #unlink(ticket: AdmissionTicket): void {
    if (ticket.prev) ticket.prev.next = ticket.next;
    else this.#head = ticket.next;
    if (ticket.next) ticket.next.prev = ticket.prev;
    else this.#tail = ticket.prev;
    ticket.prev = ticket.next = undefined;
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
    for (let ticket = this.#head; ticket !== undefined; ticket = this.#head) {
      if (ticket.deadline > now) return this.#arm(ticket.deadline - now);
      // Still in flight until its response closes (leave).
      this.#unlink(ticket);
      this.#running--;
      ticket.expired = true;
      this.#expired++;
      ticket.run.abort(new RequestTimeoutError(this.requestTimeoutMs));
    }
  }

  #abortAll(reason: Error): void {
    // Expired runs are aborted already; aborting a run can close its response and unlink it, so
    // the queue is copied first.
    const runs: AbortController[] = [];
    for (let ticket = this.#head; ticket !== undefined; ticket = ticket.next) runs.push(ticket.run);
    for (const run of runs) run.abort(reason);
  }
}
