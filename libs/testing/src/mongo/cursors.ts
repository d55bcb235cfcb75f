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
export class QueryCursor {
  readonly kind = 'query';
  killed = false;
  #next = 0;

  constructor(
    readonly id: bigint,
    readonly ns: string,
    readonly docs: Document[],
  ) {}

  /** The next batch: at most `limit` documents and 16 MiB (at least one). */
  take(limit: number): { docs: BatchBuilder; exhausted: boolean } {
    const out = new BatchBuilder();
    while (this.#next < this.docs.length && out.count < limit) {
      const b = toBson(this.docs[this.#next]);
      if (out.count > 0 && out.bytes + b.length > BSON_OBJ_MAX_USER_SIZE) break;
      out.push(b);
      this.#next++;
    }
    return { docs: out, exhausted: this.#next >= this.docs.length };
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
