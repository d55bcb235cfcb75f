import { type Document } from 'bson';
import type { ChangeStreamCursor } from './change-stream';
import { BSON_OBJ_MAX_USER_SIZE } from './split-event';
import { BatchBuilder, toBson } from './raw-bson';

/**
 * Open cursors by id: query cursors (`find`, `aggregate` without `$changeStream`, `listCollections`…)
 * hold their result set, taken when the query ran; change stream cursors hold an oplog position.
 * Ids are 64-bit, never reused, and the registry can forget every cursor at once (what a
 * failover or a restart does to them: the next getMore answers 43 CursorNotFound).
 */
/**
 * Where a query cursor's documents come from: a result set taken when the query ran, or a live
 * `_id` index scan that reads as getMores come (see IdScan).
 */
export interface DocSource {
  /** The next document, or undefined at the end. */
  next(): Document | undefined;
  /** True once the source knows it has nothing more (its end or the query's limit was reached). */
  readonly exhausted: boolean;
}

export class ArraySource implements DocSource {
  #next = 0;
  constructor(readonly docs: readonly Document[]) {}
  next(): Document | undefined {
    return this.#next < this.docs.length ? this.docs[this.#next++] : undefined;
  }
  get exhausted(): boolean {
    return this.#next >= this.docs.length;
  }
}

export class QueryCursor {
  readonly kind = 'query';
  killed = false;
  readonly #source: DocSource;
  /** A document read but not sent (the batch was full by size). */
  #held: Buffer | undefined;

  constructor(
    readonly id: bigint,
    readonly ns: string,
    source: DocSource | readonly Document[],
  ) {
    this.#source = Array.isArray(source) ? new ArraySource(source) : (source as DocSource);
  }

  /**
   * The next batch: at most `limit` documents and 16 MiB (at least one). A live source is not read
   * ahead, so (as on a server) a batch that ends exactly at the last document leaves the cursor
   * open and the next getMore answers an empty batch with cursor id 0.
   */
  take(limit: number): { docs: BatchBuilder; exhausted: boolean } {
    const out = new BatchBuilder();
    while (out.count < limit) {
      let b = this.#held;
      this.#held = undefined;
      if (!b) {
        const d = this.#source.next();
        if (!d) break;
        b = toBson(d);
      }
      if (out.count > 0 && out.bytes + b.length > BSON_OBJ_MAX_USER_SIZE) {
        this.#held = b;
        break;
      }
      out.push(b);
    }
    return { docs: out, exhausted: !this.#held && this.#source.exhausted };
  }
}

export type Cursor = QueryCursor | ChangeStreamCursor;

export class CursorRegistry {
  readonly #cursors = new Map<bigint, Cursor>();
  #nextId: bigint;

  constructor() {
    // Large, like a server's: the driver must not assume small ids.
    this.#nextId = 5_000_000_000_000n + BigInt(Math.floor(Math.random() * 1_000_000)) * 1000n;
  }

  newId(): bigint {
    return this.#nextId++;
  }

  add(c: Cursor): void {
    this.#cursors.set(c.id, c);
  }

  get(id: bigint): Cursor | undefined {
    return this.#cursors.get(id);
  }

  remove(id: bigint): boolean {
    const c = this.#cursors.get(id);
    if (c) c.killed = true;
    return this.#cursors.delete(id);
  }

  /** Every cursor is gone, as after a failover: returns how many there were. */
  forgetAll(): number {
    const n = this.#cursors.size;
    for (const c of this.#cursors.values()) c.killed = true;
    this.#cursors.clear();
    return n;
  }

  get size(): number {
    return this.#cursors.size;
  }

  changeStreams(): ChangeStreamCursor[] {
    return [...this.#cursors.values()].filter((c): c is ChangeStreamCursor => c.kind === 'changeStream');
  }
}
