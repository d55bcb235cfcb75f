import { compareToBound, type IdBound, type IdEntry, IdIndex, type IdPosition } from './id-index';

/**
 * A scan of the `_id` index between cuts, forward or backward, that survives writes: it keeps the
 * last `_id` it returned and, when the index changed since (its version moved), re-seeks just past
 * it. So, like a server's index scan across getMores (which yields and restores its position by
 * key), documents inserted ahead of the scan are returned, those inserted behind it are not, and
 * deleted ones are not. Each step is O(1) while nothing changes and O(log n) after a write.
 */
export class IdScan {
  #pos: IdPosition | undefined;
  #version = -1;
  #last: { id: unknown } | undefined;
  #done = false;

  constructor(
    readonly index: IdIndex,
    /** Entries must be after every lower cut… */
    readonly lower: readonly IdBound[],
    /** …and before every upper cut. */
    readonly upper: readonly IdBound[],
    readonly direction: 1 | -1,
  ) {}

  #startPosition(): IdPosition {
    const ix = this.index;
    if (this.direction > 0) {
      if (this.#last) return ix.seek({ value: this.#last.id, side: 'after' });
      let p = ix.start();
      for (const b of this.lower) {
        const q = ix.seek(b);
        if (IdIndex.before(p, q)) p = q;
      }
      return p;
    }
    if (this.#last) return ix.previous(ix.seek({ value: this.#last.id, side: 'before' }));
    let p = ix.end();
    for (const b of this.upper) {
      const q = ix.seek(b);
      if (IdIndex.before(q, p)) p = q;
    }
    return ix.previous(p);
  }

  /** The next entry in range, or undefined at the end (and from then on). */
  next(): IdEntry | undefined {
    if (this.#done) return undefined;
    const ix = this.index;
    const pos = this.#pos && this.#version === ix.version ? this.#pos : this.#startPosition();
    const entry = pos.block < 0 ? undefined : ix.at(pos);
    const stops = this.direction > 0 ? this.upper : this.lower;
    if (!entry || stops.some((b) => compareToBound(entry.id, b) * this.direction >= 0)) {
      this.#done = true;
      return undefined;
    }
    this.#last = { id: entry.id };
    this.#pos = this.direction > 0 ? ix.next(pos) : ix.previous(pos);
    this.#version = ix.version;
    return entry;
  }
}
