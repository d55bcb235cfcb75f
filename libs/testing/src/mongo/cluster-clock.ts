import { Timestamp } from 'bson';

/**
 * The primary's cluster time: oplog timestamps `(seconds, increment)` that follow the wall clock's
 * seconds and count up within a second, strictly increasing.
 *
 * A real primary writes a no-op to the oplog about every 10 s when idle, so the cluster time (and
 * with it every post-batch resume token) keeps moving. Here the no-op is virtual and writes
 * nothing: whenever the time is observed and the wall clock has passed into a later second, the
 * clock takes a fresh timestamp in that second, as if a no-op had been written — the cluster time
 * moves on at least once a second, and only when someone looks.
 */
export class ClusterClock {
  #seconds: number;
  #increment: number;

  constructor(readonly wall: () => number = Date.now) {
    this.#seconds = Math.floor(this.wall() / 1000);
    this.#increment = 0;
  }

  /** The latest timestamp handed out (after the idle no-op, if a second has passed). */
  now(): Timestamp {
    const s = Math.floor(this.wall() / 1000);
    if (s > this.#seconds) {
      this.#seconds = s;
      this.#increment = 1;
    }
    return new Timestamp({ t: this.#seconds, i: this.#increment });
  }

  /** A new timestamp for a write: later than every one before it. */
  next(): Timestamp {
    const s = Math.floor(this.wall() / 1000);
    if (s > this.#seconds) {
      this.#seconds = s;
      this.#increment = 0;
    }
    this.#increment++;
    return new Timestamp({ t: this.#seconds, i: this.#increment });
  }
}

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  const at = a.t;
  const bt = b.t;
  if (at !== bt) return at < bt ? -1 : 1;
  return a.i === b.i ? 0 : a.i < b.i ? -1 : 1;
}
