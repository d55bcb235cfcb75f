import type { ResumeToken } from '@runnel/checkpoint';

/**
 * A change event as the MongoDB driver delivers it (ChangeStreamDocument), reduced to the fields
 * Runnel reads. Unknown operation types and extra fields are tolerated.
 */
export interface SourceChange {
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
  txnNumber?: { toString(): string };
  lsid?: Record<string, unknown>;
}

export type SourceItem =
  /** An event, with the stream's token right after it. */
  | { type: 'change'; change: SourceChange; token: ResumeToken }
  /** No events, but the stream moved on: a post-batch resume token to checkpoint while idle. */
  | { type: 'idle'; token: ResumeToken; clusterTime?: string }
  /** The stream ended (drop/rename/dropDatabase): resume with startAfter this token. */
  | { type: 'invalidate'; token: ResumeToken };

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
  read(from: ResumePoint | undefined, signal: AbortSignal): AsyncIterable<SourceItem>;
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
