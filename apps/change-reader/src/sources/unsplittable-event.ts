import type { ChangeStream, Document } from 'mongodb';
import type { ResumeToken } from '@runnel/checkpoint';
import type { ResumePoint, SourceChange } from './change-source';
import { keepExactBsonTypes } from './exact-bson-cursors';

/**
 * OVERSIZE_EVENTS=skip for an event `$changeStreamSplitLargeEvent` cannot split (one top-level
 * field alone over 16 MB). The server fails the whole batch on it (7182500, or 10334), so the
 * stream cannot read it, nor the events before it in that batch, nor resume past it: resuming
 * after its own token with the split stage fails again, because the stage runs before the check
 * that swallows the resume point (mongod moves it ahead of EnsureResumeTokenPresent). The
 * source therefore steps up to it one event per batch (batchSize 1) until the failure pins it as
 * the first event after the position, then:
 * 1. the probe: the same stream without the split stage, with the large fields projected out,
 *    read from the last position that is not a fragment's token, shows the event's metadata and
 *    its token (the events the source reported since that position come first and are passed);
 * 2. the bridge: the stream without the split stage, resumed after that token (the server
 *    swallows the event before anything serializes it), reads the first thing after it: an event,
 *    or an empty batch whose post-batch token is past it. That gives a position after the event
 *    that the normal stream (with the split stage) resumes from.
 */

/** Leaves out the fields that make an event large: what remains is small enough to read. */
export const PROBE_PROJECTION = { $project: { fullDocument: 0, fullDocumentBeforeChange: 0, updateDescription: 0 } } as const;

export type OpenStream = (from: ResumePoint, o: { split: false; batchSize: 1; stages?: Document[] }) => ChangeStream;

const ABORTED = Symbol('aborted');
const aborted = (signal: AbortSignal) =>
  new Promise<typeof ABORTED>((resolve) => (signal.aborted ? resolve(ABORTED) : signal.addEventListener('abort', () => resolve(ABORTED), { once: true })));

async function next(cs: ChangeStream, signal: AbortSignal): Promise<Document | null | typeof ABORTED> {
  const p = cs.tryNext();
  p.catch(() => undefined);
  return Promise.race([p, aborted(signal)]);
}

/** The event that cannot be split: what the probe saw of it, and its own token. */
export interface UnsplittableEvent {
  token: ResumeToken;
  change: SourceChange;
}

/**
 * The `passed + 1`-th event after `clean`, stripped of its large fields; undefined when aborted.
 * Throws what the probe's stream throws (e.g. 280 when `clean` is a fragment's token).
 */
export async function probe(open: OpenStream, clean: ResumePoint, passed: number, signal: AbortSignal): Promise<UnsplittableEvent | undefined> {
  const cs = open(clean, { split: false, batchSize: 1, stages: [PROBE_PROJECTION] });
  try {
    keepExactBsonTypes(cs);
    for (let seen = 0; ; ) {
      const doc = await next(cs, signal);
      if (doc === ABORTED) return undefined;
      if (!doc) continue;
      if (seen++ < passed) continue;
      return { token: doc['_id'] as ResumeToken, change: doc as unknown as SourceChange };
    }
  } finally {
    await cs.close().catch(() => undefined);
  }
}

/** What follows the unsplittable event: an event with the token after it, or just a token past it. */
export type Bridge = { change: SourceChange; token: ResumeToken } | { change?: undefined; token: ResumeToken };

/** The first position after the event whose token is `past`; undefined when aborted. */
export async function bridge(open: OpenStream, past: ResumeToken, signal: AbortSignal): Promise<Bridge | undefined> {
  const cs = open({ token: past }, { split: false, batchSize: 1 });
  const key = JSON.stringify(past);
  try {
    keepExactBsonTypes(cs);
    for (;;) {
      const doc = await next(cs, signal);
      if (doc === ABORTED) return undefined;
      const token = cs.resumeToken as ResumeToken | null;
      if (doc) return { change: doc as unknown as SourceChange, token: token ?? (doc['_id'] as ResumeToken) };
      if (token && JSON.stringify(token) !== key) return { token };
      if (cs.closed) throw new Error('change stream closed while reading past an oversize event');
    }
  } finally {
    await cs.close().catch(() => undefined);
  }
}
