import type { ResumeToken } from '@runnel/checkpoint';
import type { SourceChange } from './change-source';

/**
 * A fragment does not continue the event being reassembled: a fragment out of order, another
 * event's, one from a cursor the driver opened after the first fragment (its resume), or an event
 * that is no fragment while fragments are pending. The source then reads the event again from the
 * position before its first fragment.
 */
export class BrokenSplitEventError extends Error {
  constructor(reason: string) {
    super(`split change event cannot be reassembled: ${reason}`);
    this.name = 'BrokenSplitEventError';
  }
}

const whole = (n: unknown): number | undefined => {
  const v = typeof n === 'number' ? n : typeof n === 'object' && n !== null ? Number(n) : NaN; // Int32 when decoded exactly
  return Number.isInteger(v) && v >= 1 ? v : undefined;
};

/**
 * Reassembles the fragments `$changeStreamSplitLargeEvent` cuts an event over 16 MB into.
 *
 * The server splits an event by top-level field (never inside one), fields sorted by size, as
 * many as fit in each fragment, and gives every fragment its own `_id` (resume token) and a
 * `splitEvent: {fragment: n, of: m}`, n from 1. The fragments of one event come one after the
 * other; merging their fields gives the event back (MongoDB's own jstests reassemble them the same
 * way: Object.assign of each fragment without `_id` and `splitEvent`).
 *
 * A split is only consistent within one cursor: the server splits the event once and queues its
 * fragments. Resuming from a fragment's token makes the server split the event again, and with
 * `updateLookup` the document it looks up may have changed size, so the new split can put fields
 * into other fragments: the rest of such a split would miss a field or repeat one. So every
 * fragment must come from the cursor fragment 1 came from (`cursor` counts the driver's cursors).
 */
export class SplitEventAssembler {
  #fragments: Record<string, unknown>[] = [];
  #of = 0;
  #cursor = -1;

  /** Fragments of an event are pending: the stream is inside an event, at no position to report. */
  get pending(): boolean {
    return this.#fragments.length > 0;
  }

  /** e.g. "2 of 3", for messages. */
  get progress(): string {
    return `${this.#fragments.length} of ${this.#of}`;
  }

  /** A document is a fragment when it has `splitEvent`. */
  static isFragment(doc: Record<string, unknown>): boolean {
    return doc['splitEvent'] !== undefined && doc['splitEvent'] !== null;
  }

  /** A fragment's number (from 1), or undefined. */
  static fragmentNumber(doc: Record<string, unknown>): number | undefined {
    return SplitEventAssembler.isFragment(doc) ? whole((doc['splitEvent'] as Record<string, unknown>)['fragment']) : undefined;
  }

  /**
   * Takes the next document of the stream while fragments are pending, or a fragment; returns the
   * whole event with its last fragment, undefined before. Throws BrokenSplitEventError (and
   * forgets the fragments) when `doc` does not continue the pending event.
   */
  add(doc: Record<string, unknown>, cursor: number): { change: SourceChange; fragments: number } | undefined {
    if (!SplitEventAssembler.isFragment(doc)) this.#broken(`an event that is not a fragment arrived after fragment ${this.progress}`);
    const split = doc['splitEvent'] as Record<string, unknown>;
    const n = whole(split['fragment']);
    const of = whole(split['of']);
    if (n === undefined || of === undefined || n > of) this.#broken(`invalid splitEvent ${JSON.stringify({ fragment: String(split['fragment']), of: String(split['of']) })}`);
    if (this.pending) {
      if (n !== this.#fragments.length + 1 || of !== this.#of) this.#broken(`fragment ${n} of ${of} arrived after fragment ${this.progress}`);
      if (cursor !== this.#cursor) this.#broken(`the driver resumed the stream after fragment ${this.progress}; the server may have split the event differently`);
    } else {
      if (n !== 1) this.#broken(`fragment ${n} of ${of} arrived without the fragments before it`);
      this.#of = of;
      this.#cursor = cursor;
    }
    this.#fragments.push(doc);
    if (n < of) return undefined;

    const fragments = this.#fragments;
    this.reset();
    const event: Record<string, unknown> = { _id: doc['_id'] as ResumeToken };
    for (const fragment of fragments) {
      for (const [key, value] of Object.entries(fragment)) if (key !== '_id' && key !== 'splitEvent') event[key] = value;
    }
    return { change: event as unknown as SourceChange, fragments: fragments.length };
  }

  /** Forgets the pending fragments. */
  reset(): void {
    this.#fragments = [];
    this.#of = 0;
    this.#cursor = -1;
  }

  #broken(reason: string): never {
    this.reset();
    throw new BrokenSplitEventError(reason);
  }
}
