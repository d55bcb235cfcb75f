import type { ChangeStream, Document, Timestamp } from 'mongodb';
import type { ResumeToken } from '@runnel/checkpoint';
import type { ResumePoint, SourceChange } from './change-source';
import { keepExactBsonTypes } from './exact-bson-cursors';
import { laterThan, timestampOf, tokenClusterTime } from './resume-token-time';

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

/** Where a stream starts: a resume point, or (startAtOperationTime) the first event at or after a cluster time. */
export type StreamStart = ResumePoint | { operationTime: Timestamp };

export type OpenStream = (from: StreamStart, o: { split: false; batchSize: 1; stages?: Document[] }) => ChangeStream;

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

/**
 * Whether `fragment` is the token of a fragment of the event whose own token is `event`. Resume
 * tokens are KeyStrings (hex) ending with an end byte; a fragment's is its event's with the
 * fragment number appended before that byte (SERVER-71825; SERVER-107526 suggests matching
 * fragments to their event by this prefix).
 */
export function isFragmentOf(fragment: ResumeToken, event: ResumeToken): boolean {
  const f = fragment['_data'];
  const e = event['_data'];
  return typeof f === 'string' && typeof e === 'string' && f.length > e.length && f.startsWith(e.slice(0, -2));
}

/**
 * The event a fragment's token (`point`, the position after a split event) belongs to, read
 * whole with its large fields projected out from its cluster time on, or undefined when no event
 * at that cluster time matches (or when aborted). For a resume the server refuses because it
 * now splits that event differently (280: its updateLookup document changed since).
 */
export async function probeSplitEvent(open: OpenStream, point: ResumeToken, clusterTime: string, signal: AbortSignal): Promise<UnsplittableEvent | undefined> {
  const cs = open({ operationTime: timestampOf(clusterTime) }, { split: false, batchSize: 1, stages: [PROBE_PROJECTION] });
  // Past the position's cluster time (an event's, or an empty batch's post-batch token): not found.
  const past = (token: unknown) => {
    const t = tokenClusterTime(token as ResumeToken);
    return t === undefined || laterThan(t, clusterTime);
  };
  try {
    keepExactBsonTypes(cs);
    for (;;) {
      const doc = await next(cs, signal);
      if (doc === ABORTED) return undefined;
      if (!doc) {
        if (cs.resumeToken && past(cs.resumeToken)) return undefined;
        continue;
      }
      const token = doc['_id'] as ResumeToken;
      if (isFragmentOf(point, token)) return { token, change: doc as unknown as SourceChange };
      if (past(token)) return undefined;
    }
  } finally {
    await cs.close().catch(() => undefined);
  }
}
