import type { ResumeToken } from '@runnel/checkpoint';

/**
 * A change event as the MongoDB driver delivers it (ChangeStreamDocument), reduced to the fields
 * Runnel reads. Unknown operation types and extra fields are tolerated.
 *
 * The MongoDB source decodes events without promoting values (see exact-bson-cursors.ts), so every
 * value is the BSON type the server sent: a double is a bson `Double` (5.0 stays 5.0, -0.0 stays
 * negative), an int32 an `Int32`, an int64 a `Long`, then `Decimal128`, `Date`, `ObjectId`,
 * `Binary`, `Timestamp`, `MinKey`/`MaxKey`, `BSONRegExp`, `Code`…; strings, booleans, null and
 * arrays are plain JS. Canonical Extended JSON (`EJSON.stringify(v, { relaxed: false })`) writes
 * each back as what it was. (The synthetic source yields plain JS numbers.)
 */
export interface SourceChange {
  /** The event's resume token. For a reassembled split event: its last fragment's. */
  _id: ResumeToken;
  operationType: string;
  ns?: { db: string; coll?: string };
  documentKey?: Record<string, unknown>;
  fullDocument?: Record<string, unknown> | null;
  fullDocumentBeforeChange?: Record<string, unknown> | null;
  updateDescription?: Record<string, unknown>;
  /** bson Timestamp. */
  clusterTime?: { getHighBits(): number; getLowBits(): number };
  wallTime?: Date;
  /** bson Long from MongoDB (a plain number from the synthetic source). */
  txnNumber?: { toString(): string };
  lsid?: Record<string, unknown>;
  /** rename: the target namespace. */
  to?: { db: string; coll?: string };
  /** DDL events with showExpandedEvents (create, createIndexes, modify…). */
  operationDescription?: Record<string, unknown>;
}

/** 16 MiB: MongoDB's document size limit, and the size above which OVERSIZE_EVENTS=skip skips an event. */
export const MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024;

export type SourceItem =
  /**
   * An event, with the stream's token right after it. An event the server split into fragments
   * ($changeStreamSplitLargeEvent) comes reassembled, once, with the token after its last fragment
   * and `fragments` set; the source never reports a position between two fragments.
   */
  | {
      type: 'change';
      change: SourceChange;
      token: ResumeToken;
      fragments?: number;
      /** The last of a run of events of its namespace that no cluster time will close (a collection's last snapshot row): cut its batch here. */
      endOfRun?: boolean;
    }
  /** No events, but the stream moved on: a post-batch resume token to checkpoint while idle. */
  | { type: 'idle'; token: ResumeToken; clusterTime?: string }
  /** The stream ended (drop/rename/dropDatabase): resume with startAfter this token. */
  | { type: 'invalidate'; token: ResumeToken }
  /**
   * OVERSIZE_EVENTS=skip: a change event above 16 MiB of BSON (MAX_BSON_OBJECT_SIZE), read whole
   * but not delivered. The reader dead-letters it with `reason` and the key, gives it no seq (the
   * lake stays gap-free) and moves on to `token`. `token` is never past an event after the skipped
   * one: normally the position right after it (like a change's token); for an event the server
   * could not even split, the position before it — a replay meets it again and skips it again,
   * with the same key and reason.
   */
  | SkippedEvent
  /**
   * SNAPSHOT_MODE=initial_only: every snapshot row has been delivered and the stream is not to be
   * read; the reader hands on what it holds and stops. `token`: the position after the last row.
   */
  | { type: 'snapshot-complete'; token: ResumeToken };

export interface SkippedEvent {
  type: 'skipped';
  token: ResumeToken;
  /** Why, for the dead letter: e.g. "change event of 27262976 bytes of BSON is larger than 16 MiB (OVERSIZE_EVENTS=skip)". */
  reason: string;
  namespace: { db: string; coll?: string };
  documentKey?: Record<string, unknown>;
  operationType: string;
  /** bson Timestamp of the event. */
  clusterTime?: SourceChange['clusterTime'];
  /** The event's size in bytes of BSON, when it was read whole. */
  bytes?: number;
}

export interface ResumePoint {
  token: ResumeToken;
  /** After an invalidate the driver only accepts startAfter. */
  startAfter?: boolean;
}

/** Where change events come from: MongoDB change streams, or the synthetic generator. */
export interface ChangeSource {
  /** e.g. `shop.orders`, `shop`, `*` — names the checkpoint and appears in every envelope. */
  readonly stream: string;
  /** Reads from just after `from` (or from now); ends when closed or after an invalidate. */
  read(from: ResumePoint | undefined, signal: AbortSignal, options?: ReadOptions): AsyncIterable<SourceItem>;
  /**
   * The reader has checkpointed `token`, a position this read yielded, with nothing after it
   * handed on: a point where the source may start something new (a requested re-snapshot).
   */
  checkpointed?(token: ResumeToken): Promise<void>;
}

/** Why a read starts from nothing: a new stream, or a new generation after history was lost. */
export type FreshStart = 'new stream' | 'history lost' | 'checkpoint missing';

export interface ReadOptions {
  /** Set when `from` is undefined: why (SNAPSHOT_MODE decides from it whether to snapshot first). */
  fresh?: FreshStart;
  /** Nothing after `from` has been handed on (no batch recorded after the checkpoint): a requested re-snapshot may start right there. */
  caughtUp?: boolean;
}

/**
 * Thrown when the resume point has left the oplog (server error 286, ChangeStreamHistoryLost):
 * events between the checkpoint and now are gone from the source. ON_HISTORY_LOST decides.
 */
export class HistoryLostError extends Error {
  constructor(stream: string, cause?: unknown) {
    super(`change stream history lost for ${stream}: the checkpoint's resume token is no longer in the oplog`, { cause });
    this.name = 'HistoryLostError';
  }
}

/** What OVERSIZE_EVENTS=fail|split|skip could not get past. */
export type OversizeReason = 'too-large' | 'unsplittable' | 'unsupported' | 'unresumable-split';

/**
 * Thrown by the MongoDB source when it cannot go on past a change event because of its size, and
 * retrying cannot help (the same event fails again on every resume):
 * - `too-large`: OVERSIZE_EVENTS=fail, and the server failed the cursor with 10334
 *   BSONObjectTooLarge (an event over 16 MB);
 * - `unsplittable`: OVERSIZE_EVENTS=split, or skip when skipping it is not possible, and an event
 *   one of whose top-level fields alone is over 16 MB: `$changeStreamSplitLargeEvent` splits by
 *   top-level field only (server errors 7182500, or 10334 with the stage on);
 * - `unsupported`: OVERSIZE_EVENTS=split/skip on a server without `$changeStreamSplitLargeEvent`
 *   (before MongoDB 7.0 / 6.0.9: error 40324 unrecognized stage);
 * - `unresumable-split`: the position after a split event is its last fragment's token; the
 *   server refused it (280) because it now splits that event differently, and the source could
 *   not find the event again to get past it another way.
 * The reader must stop reading the stream, report not ready, and log the message: it names
 * OVERSIZE_EVENTS and the value to set.
 */
export class OversizeEventError extends Error {
  readonly reason: OversizeReason;
  readonly stream: string;

  constructor(stream: string, reason: OversizeReason, mode: string, cause?: unknown) {
    super(oversizeMessage(stream, reason, mode), { cause });
    this.name = 'OversizeEventError';
    this.reason = reason;
    this.stream = stream;
  }
}

function oversizeMessage(stream: string, reason: OversizeReason, mode: string): string {
  if (reason === 'too-large') {
    return `a change event in ${stream} is larger than 16 MB (server error 10334 BSONObjectTooLarge) and OVERSIZE_EVENTS=${mode}: set OVERSIZE_EVENTS=split to read it whole (MongoDB 7.0 / 6.0.9 or later), or OVERSIZE_EVENTS=skip to dead-letter it`;
  }
  if (reason === 'unsupported') {
    return `OVERSIZE_EVENTS=${mode} needs $changeStreamSplitLargeEvent, which this server does not know (MongoDB 7.0 / 6.0.9 or later): set OVERSIZE_EVENTS=fail for this deployment`;
  }
  if (reason === 'unresumable-split') {
    return `${stream} cannot resume after the split event its checkpoint is after: the server now splits that event differently (e.g. its updateLookup document changed size, or OVERSIZE_EVENTS, PIPELINE or FULL_DOCUMENT changed), so the position after its last fragment no longer exists. The event itself was read whole; the stream must be restarted from a later position by an operator`;
  }
  return `a change event in ${stream} cannot be split into fragments under 16 MB (OVERSIZE_EVENTS=${mode}): one of its top-level fields alone is over 16 MB. Leave that field out with PIPELINE (a $project stage)${mode === 'skip' ? '' : ', or set OVERSIZE_EVENTS=skip to dead-letter such events'}`;
}
