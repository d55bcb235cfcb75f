/** What the Pinger needs of a stream: a way to write a keep-alive comment. */
export interface Pingable {
  ping(): void;
}

/** One open stream in the Pinger: `add` hands it out, `delete` takes it back. */
export class PingerEntry {
  prev: PingerEntry | undefined = undefined;
  next: PingerEntry | undefined = undefined;
  removed = false;
  constructor(readonly stream: Pingable) {}
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
 *
 * The open streams are a linked list of their entries, not a Set: a long-lived Set gaining and
 * losing an entry per request reallocates its hash table as its size moves, and those tables are
 * promoted to the old generation (docs/benchmarks.md, issue 9).
 */
export class Pinger {
  #head: PingerEntry | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  add(stream: Pingable): PingerEntry {
    const entry = new PingerEntry(stream);
    entry.next = this.#head;
    if (this.#head) this.#head.prev = entry;
    this.#head = entry;
    this.#size++;
    if (!this.#timer && this.intervalMs > 0) {
      this.#timer = setInterval(() => this.#tick(), this.intervalMs);
      this.#timer.unref();
    }
    return entry;
  }

  /** The stream of `entry` closed; a second call for the same entry does nothing. */
  delete(entry: PingerEntry): void {
    if (entry.removed) return;
    entry.removed = true;
    if (entry.prev) entry.prev.next = entry.next;
    else this.#head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    // Its own links are kept: a tick that holds it (a ping closed the stream after it) goes on through them.
    this.#size--;
  }

  get size(): number {
    return this.#size;
  }

  /** Whether the timer is running (for the spec). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  #tick(): void {
    if (this.#size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    // A ping that fails may close streams, its own or others, at once: those are skipped, and the
    // walk goes on through their kept links.
    for (let entry = this.#head; entry !== undefined; entry = entry.next) {
      if (!entry.removed) entry.stream.ping();
    }
  }
}
