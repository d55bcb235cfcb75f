import type { Counter } from '@runnel/metrics';

interface Pending<L extends string> {
  readonly labels: Partial<Record<L, string>>;
  n: number;
}

/**
 * Increments of a prom-client Counter kept as plain numbers on the request path and added into the
 * counter when it is collected (every scrape, and every `get()`), so what is read is the same.
 * prom-client's `inc()` hashes and validates the label set on every call: about 1 µs per request
 * (docs/benchmarks.md). Entries are kept (at 0) once seen, so their number is the counter's series.
 */
export class DeferredCounts<L extends string> {
  readonly #pending = new Map<string, Pending<L>>();

  /**
   * One more for the series `key` names (one key per label set); `labels` is needed the first time
   * only: `if (!counts.incKnown(key)) counts.add(key, labels)`.
   */
  incKnown(key: string): boolean {
    const entry = this.#pending.get(key);
    if (entry === undefined) return false;
    entry.n++;
    return true;
  }

  /** The first increment of the series `key`, with its labels. */
  add(key: string, labels: Partial<Record<L, string>>): void {
    this.#pending.set(key, { labels, n: 1 });
  }

  /**
   * The entry of the series `key` (created at 0), for a caller that keeps it and counts with
   * `entry.n++` (no key to build per increment).
   */
  entry(key: string, labels: Partial<Record<L, string>>): { n: number } {
    let entry = this.#pending.get(key);
    if (entry === undefined) this.#pending.set(key, (entry = { labels, n: 0 }));
    return entry;
  }

  /** Adds what is pending into `counter`: its `collect`. */
  flushInto(counter: Counter<L>): void {
    for (const entry of this.#pending.values()) {
      if (entry.n === 0) continue;
      counter.inc(entry.labels, entry.n);
      entry.n = 0;
    }
  }
}
