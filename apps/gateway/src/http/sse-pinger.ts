/** What the Pinger needs of a stream: a way to write a keep-alive comment. */
export interface Pingable {
  ping(): void;
}

/**
 * One timer for every open stream rather than one per stream: with thousands of idle streams
 * open, per-stream timers are measurable memory and wake-ups.
 *
 * The timer is started by the first stream and stops at a tick that finds no stream open, not when
 * the last one closes: under load the number of open streams touches 0 between requests, and a
 * clearInterval/setInterval pair each time cost about what the stream's own timers do
 * (docs/benchmarks.md). It is unref'd, so the one interval it may outlive the last stream holds
 * nothing up.
 */
export class Pinger {
  readonly #streams = new Set<Pingable>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  add(stream: Pingable): void {
    this.#streams.add(stream);
    if (!this.#timer && this.intervalMs > 0) {
      this.#timer = setInterval(() => this.#tick(), this.intervalMs);
      this.#timer.unref();
    }
  }

  delete(stream: Pingable): void {
    this.#streams.delete(stream);
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Whether the timer is running (for the spec). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  #tick(): void {
    if (this.#streams.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    for (const s of this.#streams) s.ping();
  }
}
