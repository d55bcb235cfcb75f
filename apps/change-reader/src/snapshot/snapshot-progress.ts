import type { Counter, Gauge } from 'prom-client';

/** /ready's `snapshot` detail: what an operator watches while a snapshot runs. */
export interface SnapshotStatus {
  /** reading: rows are still being emitted; streaming: every row emitted, change events from P now; complete: SNAPSHOT_MODE=initial_only finished. */
  phase: 'reading' | 'streaming' | 'complete';
  /** P, the change stream position the snapshot hands over at (`<seconds>.<increment>`). */
  position_cluster_time: string | null;
  /** Rows emitted so far, over all collections (counted from the snapshot's start, across restarts). */
  rows: number;
  collections: Record<string, CollectionStatus>;
}

export interface CollectionStatus {
  state: 'pending' | 'reading' | 'done';
  rows: number;
  chunks: number;
  /** estimatedDocumentCount when the collection was first reached. */
  estimated_rows: number | null;
  /** Rows per second in this reader's term (a restart starts measuring again). */
  rows_per_s: number | null;
  /** Seconds left at that rate, from the estimate. */
  eta_s: number | null;
}

export interface SnapshotMetrics {
  snapshotRows: Counter<'stream' | 'collection'>;
  snapshotChunks: Counter<'stream' | 'collection'>;
  snapshotActive: Gauge<'stream'>;
  snapshotRemainingRows: Gauge<'stream' | 'collection'>;
  snapshotLastProgress: Gauge<'stream'>;
}

interface Collection {
  state: CollectionStatus['state'];
  rows: number;
  chunks: number;
  estimated: number | null;
  /** Rows emitted in this term, and when this term's first and last were. */
  termRows: number;
  termStart?: number;
  termEnd?: number;
  /** Rows not yet added to the rows counter (it is added to once per chunk, not per row). */
  uncounted: number;
}

/**
 * A snapshot's progress, per collection: fed by SnapshotSource as it emits rows, read by /ready
 * and the metrics. Counts restart from the position a reader resumes at (the token carries the
 * row's ordinal), so a kill -9 does not reset them.
 */
export class SnapshotProgress {
  #phase: SnapshotStatus['phase'] | undefined;
  #clusterTime: string | null = null;
  #rows = 0;
  readonly #collections = new Map<string, Collection>();
  /** The snapshot whose progress clock has been started in this process (a retry does not restart it). */
  #stamped: string | undefined;

  constructor(
    private readonly stream: string,
    private readonly metrics?: SnapshotMetrics,
    private readonly now = () => Date.now(),
  ) {}

  /**
   * A snapshot (`id`) is read, or resumed, over `namespaces`; those in `done` are done, with their
   * rows. The stall clock starts once per snapshot per process: a reader that fails and retries
   * must not look like progress to RunnelSnapshotStalled.
   */
  begin(id: string, clusterTime: string | null, namespaces: string[], done: Record<string, number>, rowsBefore: number): void {
    this.#phase = 'reading';
    this.#clusterTime = clusterTime;
    this.#rows = rowsBefore;
    this.#collections.clear();
    for (const ns of namespaces) {
      const rows = done[ns];
      this.#collections.set(ns, { state: rows === undefined ? 'pending' : 'done', rows: rows ?? 0, chunks: 0, estimated: null, termRows: 0, uncounted: 0 });
    }
    this.metrics?.snapshotActive.labels(this.stream).set(1);
    if (this.#stamped !== id) this.metrics?.snapshotLastProgress.labels(this.stream).set(this.now() / 1000);
    this.#stamped = id;
  }

  /** The collection is reached; `rowsBefore` of its rows were emitted before this term. */
  collection(ns: string, estimated: number | null, rowsBefore: number): void {
    const c = this.#get(ns);
    c.state = 'reading';
    c.estimated = estimated;
    c.rows = rowsBefore;
    this.#remaining(ns, c);
  }

  chunk(ns: string): void {
    this.#get(ns).chunks++;
    this.metrics?.snapshotChunks.labels(this.stream, ns).inc();
  }

  row(ns: string): void {
    const c = this.#get(ns);
    c.rows++;
    c.termRows++;
    c.uncounted++;
    c.termStart ??= this.now();
    this.#rows++;
  }

  /** After each chunk's rows: the stall alert's clock and the remaining-rows gauge. */
  emitted(ns: string): void {
    const c = this.#get(ns);
    if (c.uncounted) this.metrics?.snapshotRows.labels(this.stream, ns).inc(c.uncounted);
    c.uncounted = 0;
    this.metrics?.snapshotLastProgress.labels(this.stream).set(this.now() / 1000);
    this.#remaining(ns, c);
  }

  collectionDone(ns: string): void {
    const c = this.#get(ns);
    c.state = 'done';
    c.termEnd = this.now(); // its rate stops here
    this.metrics?.snapshotRemainingRows.labels(this.stream, ns).set(0);
  }

  /** Every row is emitted: streaming from P (or, with initial_only, finished). */
  finish(phase: 'streaming' | 'complete'): void {
    this.#phase = phase;
    this.metrics?.snapshotActive.labels(this.stream).set(0);
  }

  /**
   * This replica no longer reads the stream (standby, halted, stopped): another one carries the
   * snapshot on, and this one's gauges must not count. (A read that fails and is retried keeps
   * `active`, so a snapshot that cannot get on still stalls the alert.)
   */
  notReading(): void {
    this.metrics?.snapshotActive.labels(this.stream).set(0);
  }

  get status(): SnapshotStatus | null {
    if (!this.#phase) return null;
    const collections: Record<string, CollectionStatus> = {};
    for (const [ns, c] of this.#collections) {
      const elapsed = c.termStart === undefined ? 0 : ((c.termEnd ?? this.now()) - c.termStart) / 1000;
      const rate = elapsed > 0 ? c.termRows / elapsed : null;
      collections[ns] = {
        state: c.state,
        rows: c.rows,
        chunks: c.chunks,
        estimated_rows: c.estimated,
        rows_per_s: rate === null ? null : Math.round(rate),
        eta_s: c.state === 'done' ? 0 : rate && c.estimated !== null ? Math.max(0, Math.round((c.estimated - c.rows) / rate)) : null,
      };
    }
    return { phase: this.#phase, position_cluster_time: this.#clusterTime, rows: this.#rows, collections };
  }

  #get(ns: string): Collection {
    let c = this.#collections.get(ns);
    if (!c) this.#collections.set(ns, (c = { state: 'pending', rows: 0, chunks: 0, estimated: null, termRows: 0, uncounted: 0 }));
    return c;
  }

  #remaining(ns: string, c: Collection): void {
    if (c.estimated !== null) this.metrics?.snapshotRemainingRows.labels(this.stream, ns).set(Math.max(0, c.estimated - c.rows));
  }
}
