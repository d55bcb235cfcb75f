import { compareValues, typeRank } from './bson-values';

/**
 * A collection's `_id` index: every `_id` in BSON comparison order, kept sorted as documents are
 * inserted and deleted, so a range scan (a snapshot's chunk `min: {_id: last}` + limit, or an
 * `_id` range in a filter) costs O(log n + k) however the collection changes between chunks.
 *
 * Why this structure: a sorted list of blocks (each at most BLOCK entries; a block is split in two
 * when it grows past that and removed when it empties) — the shape of a B+tree's leaf level with a
 * flat array of blocks for the inner level. Seeking is two binary searches (over the blocks' last
 * keys, then inside one block): O(log n) comparisons, which is what matters here, since a BSON
 * comparison is far dearer than moving a pointer. An insert or delete moves at most BLOCK entries
 * inside one block plus n/BLOCK block references (a memmove of ~200 pointers at 100k documents).
 * The former implementation re-sorted every key after any insert or delete (O(n log n) per chunk
 * when a writer runs during a snapshot); a balanced tree would give the same asymptotics with far
 * more code and worse constants in JS.
 *
 * Positions ({block, offset}) are only valid at the `version` they were taken at; a scan that
 * outlives a write re-seeks from the last key it returned (as a server's index cursor restores
 * its position by key after yielding).
 */
export interface IdEntry {
  /** The `_id` value as stored. */
  readonly id: unknown;
  /** The document's key in the collection's map (valueKey of the `_id`). */
  readonly key: string;
}

/**
 * A cut in BSON order, between two values: just before or just after a value, or at the start or
 * end of a type bracket (where `$gt: 5` stops: after the last number). `$gte v` and `min: v` are
 * cuts before v, `$gt v` after v; `$lt v` and `max: v` (exclusive) before v, `$lte v` after v.
 */
export type IdBound = { value: unknown; side: 'before' | 'after' } | { bracketStart: number } | { bracketEnd: number };

export interface IdPosition {
  block: number;
  offset: number;
}

const BLOCK = 256;

/** Where `id` lies relative to the cut: < 0 before it, > 0 after it (never on it). */
export function compareToBound(id: unknown, bound: IdBound): number {
  if ('value' in bound) {
    const c = compareValues(id, bound.value);
    return c !== 0 ? c : bound.side === 'before' ? 1 : -1;
  }
  const r = typeRank(id);
  if ('bracketStart' in bound) return r < bound.bracketStart ? -1 : 1;
  return r <= bound.bracketEnd ? -1 : 1;
}

export class IdIndex {
  #blocks: IdEntry[][] = [];
  #size = 0;
  /** Bumped by every insert and delete. */
  version = 0;

  get size(): number {
    return this.#size;
  }

  /** The block an `_id` belongs in: the first whose last entry is >= it (or past the last block). */
  #blockFor(id: unknown): number {
    let lo = 0;
    let hi = this.#blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = this.#blocks[mid];
      if (compareValues(block[block.length - 1].id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First offset in the block whose entry compares >= id. */
  static #offsetIn(block: IdEntry[], id: unknown): number {
    let lo = 0;
    let hi = block.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareValues(block[mid].id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(id: unknown, key: string): void {
    this.version++;
    this.#size++;
    if (this.#blocks.length === 0) {
      this.#blocks.push([{ id, key }]);
      return;
    }
    const b = Math.min(this.#blockFor(id), this.#blocks.length - 1);
    const block = this.#blocks[b];
    block.splice(IdIndex.#offsetIn(block, id), 0, { id, key });
    if (block.length > BLOCK * 2) this.#blocks.splice(b + 1, 0, block.splice(BLOCK));
  }

  /** Removes the entry equal to `id`; false if there was none. */
  delete(id: unknown): boolean {
    const b = this.#blockFor(id);
    const block = this.#blocks[b];
    if (!block) return false;
    const o = IdIndex.#offsetIn(block, id);
    if (o >= block.length || compareValues(block[o].id, id) !== 0) return false;
    block.splice(o, 1);
    if (block.length === 0) this.#blocks.splice(b, 1);
    this.version++;
    this.#size--;
    return true;
  }

  /** The first position after the cut (past the end if none). */
  seek(bound: IdBound): IdPosition {
    let lo = 0;
    let hi = this.#blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const block = this.#blocks[mid];
      if (compareToBound(block[block.length - 1].id, bound) < 0) lo = mid + 1;
      else hi = mid;
    }
    const block = this.#blocks[lo];
    if (!block) return this.end();
    let l = 0;
    let h = block.length;
    while (l < h) {
      const mid = (l + h) >>> 1;
      if (compareToBound(block[mid].id, bound) < 0) l = mid + 1;
      else h = mid;
    }
    return { block: lo, offset: l };
  }

  start(): IdPosition {
    return { block: 0, offset: 0 };
  }

  end(): IdPosition {
    return { block: this.#blocks.length, offset: 0 };
  }

  at(p: IdPosition): IdEntry | undefined {
    return this.#blocks[p.block]?.[p.offset];
  }

  next(p: IdPosition): IdPosition {
    const block = this.#blocks[p.block];
    if (block && p.offset + 1 < block.length) return { block: p.block, offset: p.offset + 1 };
    return { block: p.block + 1, offset: 0 };
  }

  /** The position before p; {block: -1} when p is the first. */
  previous(p: IdPosition): IdPosition {
    if (p.offset > 0) return { block: p.block, offset: p.offset - 1 };
    const b = p.block - 1;
    return b < 0 ? { block: -1, offset: 0 } : { block: b, offset: this.#blocks[b].length - 1 };
  }

  static before(a: IdPosition, b: IdPosition): boolean {
    return a.block < b.block || (a.block === b.block && a.offset < b.offset);
  }

  *entries(): IterableIterator<IdEntry> {
    for (const block of this.#blocks) yield* block;
  }
}
