import type { Binary, Document, Long, Timestamp } from 'bson';
import { type ClusterClock, compareTimestamps } from './cluster-clock';
import type { UpdateDescription } from './update-operators';

/**
 * The oplog: every write, in order, with its cluster time. Change streams read it by position
 * (O(1): entries are held in an array offset by the number dropped), resume tokens name positions,
 * and `startAtOperationTime` finds one by binary search on the timestamps.
 *
 * It is a window of at most `maxEntries` entries, like a capped oplog: when it is full the oldest
 * entry goes, and a resume point before the oldest entry left is history lost (286). It never
 * starts empty: the first entry is the no-op a replica set writes when it is initiated.
 */
export type OplogOp =
  | 'noop'
  | 'insert'
  | 'update'
  | 'replace'
  | 'delete'
  | 'drop'
  | 'rename'
  | 'dropDatabase'
  | 'create'
  | 'createIndexes'
  | 'dropIndexes'
  | 'modify';

export interface OplogEntry {
  /** 1-based position in the oplog. */
  pos: number;
  ts: Timestamp;
  wallTime: Date;
  op: OplogOp;
  db: string;
  coll?: string;
  collectionUUID?: Binary;
  documentKey?: Document;
  /** insert / replace: the document written. */
  fullDocument?: Document;
  updateDescription?: UpdateDescription;
  /** The document before the write, kept only when the collection records pre-images. */
  preImage?: Document;
  /** The document after an update, kept only when the collection records pre-images (it is computed from one). */
  postImage?: Document;
  /** rename: the target namespace. */
  to?: { db: string; coll: string };
  /** Expanded events' `operationDescription`. */
  operationDescription?: Document;
  /** Set when the write came with a session in a transaction. */
  lsid?: Document;
  txnNumber?: Long;
  /** The entry's resume token, made on first read. */
  token?: { _data: string };
}

export type NewEntry = Omit<OplogEntry, 'pos' | 'ts' | 'wallTime'>;

export class Oplog {
  readonly #entries: OplogEntry[] = [];
  /** Entries dropped from the front (the position of entries[0] is dropped + 1). */
  #dropped = 0;
  /** Dropped entries still held in #entries' front, compacted in bulk. */
  #holes = 0;
  #waiters = new Set<() => void>();

  constructor(
    readonly clock: ClusterClock,
    public maxEntries: number,
  ) {
    this.append({ op: 'noop', db: 'admin', operationDescription: { msg: 'initiating set' } });
  }

  append(e: NewEntry): OplogEntry {
    const ts = this.clock.next();
    const entry: OplogEntry = { ...e, pos: this.last + 1, ts, wallTime: new Date() };
    this.#entries.push(entry);
    this.#trim(this.maxEntries);
    this.wake();
    return entry;
  }

  /** Appends entries that share one cluster time (a transaction's writes, as one applyOps). */
  appendAll(entries: readonly NewEntry[]): void {
    const ts = this.clock.next();
    const wallTime = new Date();
    for (const e of entries) {
      this.#entries.push({ ...e, pos: this.last + 1, ts, wallTime });
      this.#trim(this.maxEntries);
    }
    this.wake();
  }

  /** Position of the newest entry. */
  get last(): number {
    return this.#dropped + this.#entries.length - this.#holes;
  }

  /** Position of the oldest entry still held. */
  get first(): number {
    return this.#dropped + 1;
  }

  /** Entries dropped so far (resume points at or before this position are lost). */
  get dropped(): number {
    return this.#dropped;
  }

  at(pos: number): OplogEntry | undefined {
    if (pos <= this.#dropped) return undefined;
    return this.#entries[pos - this.#dropped - 1 + this.#holes];
  }

  get latest(): OplogEntry {
    return this.at(this.last)!;
  }

  /** Whether a resume point at this cluster time needs history the window no longer has. */
  historyLost(ts: Timestamp): boolean {
    const oldest = this.at(this.first);
    return oldest === undefined || compareTimestamps(ts, oldest.ts) < 0;
  }

  /** The position just before the first entry at or after `ts` (where a stream starting at `ts` begins). */
  positionBefore(ts: Timestamp): number {
    let lo = this.first;
    let hi = this.last + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareTimestamps(this.at(mid)!.ts, ts) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Keeps only the newest `keep` entries (a no-op is written if that leaves none). Returns how many were dropped. */
  truncate(keep: number): number {
    const before = this.#dropped;
    this.#trim(Math.max(0, keep));
    if (this.last < this.first) this.append({ op: 'noop', db: 'admin', operationDescription: { msg: 'periodic noop' } });
    return this.#dropped - before;
  }

  #trim(keep: number): void {
    const size = this.last - this.#dropped;
    if (size <= keep) return;
    const drop = size - keep;
    for (let i = 0; i < drop; i++) this.#entries[this.#holes + i] = undefined as unknown as OplogEntry;
    this.#holes += drop;
    this.#dropped += drop;
    // Compact once the dropped front outweighs what is kept: amortised O(1) per entry.
    if (this.#holes > 1024 && this.#holes > this.#entries.length / 2) {
      this.#entries.splice(0, this.#holes);
      this.#holes = 0;
    }
  }

  /** Resolves on the next append (or wake), or after `ms`. */
  waitForAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
    });
  }

  /** Wakes every waiting getMore (a write, a killed cursor, shutdown). */
  wake(): void {
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const w of waiters) w();
  }
}
