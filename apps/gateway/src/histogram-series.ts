import type { Histogram } from '@runnel/metrics';

/** One series of a histogram, observed through this handle. */
export interface Observer {
  observe(value: number): void;
}

/** What prom-client 15's Histogram keeps per series (lib/histogram.js `observe`, `zero`). */
interface HistogramEntry {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

interface HistogramInternals {
  hashMap: Record<string, HistogramEntry>;
  upperBounds: readonly number[];
}

/**
 * One series of a prom-client Histogram, observed with the same arithmetic as prom-client's own
 * `observe()` (the same bucket, the same `sum += value`, `count += 1`), into the same per-series
 * entry, but without what prom-client does again on every call: validating and hashing the label
 * set and converting the bucket's bound to a property name (about 1 µs per observation on the
 * request path, docs/benchmarks.md). The entry is found once (made with `zero()` when the series has
 * none yet) and found again when the histogram was reset or the series removed.
 *
 * It relies on prom-client 15's per-series entries (`hashMap`, `upperBounds`); when the histogram
 * does not have that shape, prom-client's own child is handed out instead, so only the cost changes.
 * histogram-series.spec.ts holds both to the exposition prom-client gives.
 */
export function histogramSeries<L extends string>(histogram: Histogram<L>, labels: Readonly<Record<L, string>>): Observer {
  const internals = histogram as unknown as Partial<HistogramInternals>;
  if (typeof internals.hashMap !== 'object' || internals.hashMap === null || !Array.isArray(internals.upperBounds)) {
    return histogram.labels(labels as Partial<Record<L, string>>);
  }
  return new HistogramSeries(histogram, labels);
}

class HistogramSeries<L extends string> implements Observer {
  readonly #internals: HistogramInternals;
  readonly #bounds: readonly number[];
  /** The bounds as the property names of `bucketValues`, converted once. */
  readonly #bucketKeys: readonly string[];
  #map: Record<string, HistogramEntry> | undefined;
  #key = '';
  #entry: HistogramEntry | undefined;

  constructor(
    readonly histogram: Histogram<L>,
    readonly labels: Readonly<Record<L, string>>,
  ) {
    this.#internals = histogram as unknown as HistogramInternals;
    this.#bounds = this.#internals.upperBounds;
    this.#bucketKeys = this.#bounds.map(String);
  }

  observe(value: number): void {
    // As prom-client: a value that is not a finite number is refused, not counted.
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let entry = this.#entry;
    const map = this.#internals.hashMap;
    if (entry === undefined || map !== this.#map || map[this.#key] !== entry) entry = this.#find(map);
    const bounds = this.#bounds;
    let i = 0;
    // prom-client's findBound: the first bucket whose upper bound is >= value; past the last, +Inf only.
    while (i < bounds.length && value > bounds[i]) i++;
    entry.sum += value;
    entry.count += 1;
    if (i < bounds.length) entry.bucketValues[this.#bucketKeys[i]] += 1;
  }

  #find(map: Record<string, HistogramEntry>): HistogramEntry {
    let key = keyOf(map, this.labels);
    if (key === undefined) {
      this.histogram.zero(this.labels as Partial<Record<L, string>>);
      key = keyOf(this.#internals.hashMap, this.labels);
    }
    const entry = key === undefined ? undefined : this.#internals.hashMap[key];
    if (key === undefined || entry === undefined) throw new Error(`histogramSeries: prom-client made no series for ${JSON.stringify(this.labels)}`);
    this.#map = this.#internals.hashMap;
    this.#key = key;
    this.#entry = entry;
    return entry;
  }
}

function keyOf(hashMap: Record<string, HistogramEntry>, labels: Readonly<Record<string, string>>): string | undefined {
  for (const key in hashMap) if (sameLabels(hashMap[key].labels, labels)) return key;
  return undefined;
}

function sameLabels(a: Readonly<Record<string, string | number>>, b: Readonly<Record<string, string>>): boolean {
  let n = 0;
  for (const k in a) {
    if (String(a[k]) !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}
