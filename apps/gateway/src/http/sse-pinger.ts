/** What the Pinger needs of a stream: a way to write a keep-alive comment. */
export interface Pingable {
  ping(): void;
}

/**
 * One timer for every open stream rather than one per stream: with thousands of idle streams
 * open, per-stream timers are measurable memory and wake-ups.
 */
export class Pinger {
  readonly #streams = new Set<Pingable>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  add(stream: Pingable): void {
    this.#streams.add(stream);
    if (!this.#timer && this.intervalMs > 0) {
      this.#timer = setInterval(() => {
        for (const s of this.#streams) s.ping();
      }, this.intervalMs);
      this.#timer.unref();
    }
  }

  delete(stream: Pingable): void {
    this.#streams.delete(stream);
    if (this.#streams.size === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  get size(): number {
    return this.#streams.size;
  }
}
