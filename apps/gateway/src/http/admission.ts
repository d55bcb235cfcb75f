/**
 * The runs one gateway instance has in flight: the MAX_CONCURRENT_REQUESTS cap, the draining flag
 * set at shutdown, and the abort handle of every run so the drain can cancel stragglers.
 */
export class Admission {
  readonly #running = new Set<AbortController>();
  #draining = false;
  #idle: (() => void) | undefined;

  constructor(readonly maxConcurrent: number) {}

  get inFlight(): number {
    return this.#running.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get full(): boolean {
    return this.#running.size >= this.maxConcurrent;
  }

  enter(run: AbortController): void {
    this.#running.add(run);
  }

  leave(run: AbortController): void {
    this.#running.delete(run);
    if (this.#running.size === 0) this.#idle?.();
  }

  /** Refuses new runs from now on; resolves when the last run in flight has ended. */
  drain(): Promise<void> {
    this.#draining = true;
    if (this.#running.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#idle = resolve));
  }

  abortAll(reason: Error): void {
    for (const run of this.#running) run.abort(reason);
  }
}
