import { ShutdownAbortError } from './abort-reasons';

/**
 * The runs one gateway instance has in flight: the MAX_CONCURRENT_REQUESTS cap, the draining flag
 * set at shutdown, and the abort handle of every run so the drain can cancel stragglers.
 */
export class Admission {
  readonly #running = new Set<AbortController>();
  #draining: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  constructor(readonly maxConcurrent: number) {}

  get inFlight(): number {
    return this.#running.size;
  }

  get draining(): boolean {
    return this.#draining !== undefined;
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

  /**
   * Refuses new runs from now on; resolves when the last run in flight has ended, cancelling what is
   * still running after `graceMs` (with `reason`). Later calls wait for the same drain.
   */
  drain(graceMs: number, onGraceOver?: (inFlight: number) => void): Promise<void> {
    this.#draining ??= new Promise<void>((resolve) => {
      if (this.#running.size === 0) return resolve();
      const timer = setTimeout(() => {
        onGraceOver?.(this.#running.size);
        this.#abortAll(new ShutdownAbortError());
      }, graceMs);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    return this.#draining;
  }

  #abortAll(reason: Error): void {
    for (const run of this.#running) run.abort(reason);
  }
}
