import { type Document, type Timestamp } from 'bson';
import type { Catalog } from './catalog';
import { bool } from './bson-values';
import { type BeforeChangeMode, EXPANDED_OPS, type FullDocumentMode, renderEvent, renderInvalidate, type RenderOptions } from './change-event';
import { compileUserPipeline, type UserPipeline } from './change-stream-pipeline';
import { compareTimestamps } from './cluster-clock';
import type { Oplog, OplogEntry } from './oplog';
import { decodeToken, encodeToken, type ResumeToken, tokenTimestamp } from './resume-token';
import { ServerError } from './server-error';
import { BSON_OBJ_MAX_INTERNAL_SIZE, BSON_OBJ_MAX_USER_SIZE, MAX_CHANGE_EVENT_SIZE, splitEvent } from './split-event';
import { BatchBuilder, toBson } from './raw-bson';

/**
 * A change stream cursor: a position in the oplog, the stream's scope (a collection, a database,
 * or the deployment), its options and user stages. Each batch renders the visible entries after
 * the position (so `updateLookup` reads documents as they are at getMore time), appends the
 * `invalidate` that ends a collection stream on drop/rename or a database stream on dropDatabase,
 * splits oversized events when the pipeline ends with `$changeStreamSplitLargeEvent` and fails with
 * 10334 BSONObjectTooLarge when it does not, and reports a post-batch resume token.
 */
export type StreamScope = { type: 'collection'; db: string; coll: string } | { type: 'database'; db: string } | { type: 'cluster' };

export interface StreamContext {
  oplog: Oplog;
  catalog: Catalog;
  /** Stamped into tokens so another instance's tokens are told apart. */
  instance: number;
}

const INTERNAL_DBS = new Set(['admin', 'config', 'local']);
export const HISTORY_LOST_MESSAGE = 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.';
const NOT_FOUND_MESSAGE = 'cannot resume stream; the resume token was not found.';
const DIFFERENT_SPLIT_MESSAGE =
  'Attempted to resume from a split event, but the resumed stream produced a different split. Ensure that the pipeline used to resume is the same as the original';

export interface Batch {
  docs: BatchBuilder;
  pbrt: ResumeToken;
  /** The stream ended (invalidate): the cursor is closed. */
  closed: boolean;
}

export class ChangeStreamCursor {
  readonly kind = 'changeStream';
  readonly ns: string;
  /** The spec as received (`$changeStream`'s options). */
  readonly spec: Document;
  readonly pipeline: UserPipeline;
  readonly render: RenderOptions;
  /** Last oplog position consumed. */
  pos: number;
  killed = false;
  closed = false;
  /** Fragments of a split event still to deliver (the entry's position is already consumed). */
  #fragments: { bytes: Buffer; token: ResumeToken }[] = [];
  /** Resuming inside a split event: skip this many fragments of the entry at `pos + 1`. */
  #skipFragments: { pos: number; count: number } | undefined;
  /** An entry that ends this stream: its invalidate is the next event. */
  #invalidateAfter: OplogEntry | undefined;
  #pbrt: ResumeToken;
  /** startAtOperationTime: entries before this time are skipped. */
  #notBefore: Timestamp | undefined;

  constructor(
    readonly id: bigint,
    readonly scope: StreamScope,
    spec: Document,
    stages: Document[],
    readonly ctx: StreamContext,
    now: Timestamp,
  ) {
    this.spec = spec;
    this.ns = scope.type === 'collection' ? `${scope.db}.${scope.coll}` : `${scope.type === 'database' ? scope.db : 'admin'}.$cmd.aggregate`;
    this.pipeline = compileUserPipeline(stages);
    this.render = {
      fullDocument: mode(spec['fullDocument'], ['default', 'updateLookup', 'whenAvailable', 'required'], 'fullDocument', 'default') as FullDocumentMode,
      fullDocumentBeforeChange: mode(spec['fullDocumentBeforeChange'], ['off', 'whenAvailable', 'required'], 'fullDocumentBeforeChange', 'off') as BeforeChangeMode,
      showExpandedEvents: bool(spec['showExpandedEvents']),
      lookup: (db, coll, key) => ctx.catalog.get(db, coll)?.get(key['_id']) ?? null,
    };
    const { pos, skip } = this.#startPosition(spec);
    this.pos = pos;
    this.#skipFragments = skip;
    this.#pbrt = this.#highWaterMark(now);
  }

  get postBatchResumeToken(): ResumeToken {
    return this.#pbrt;
  }

  #startPosition(spec: Document): { pos: number; skip?: { pos: number; count: number } } {
    const oplog = this.ctx.oplog;
    const given = ['resumeAfter', 'startAfter', 'startAtOperationTime'].filter((k) => spec[k] !== undefined && spec[k] !== null);
    if (given.length > 1) throw new ServerError(40674, 'Only one type of resume option is allowed, but multiple were found.');
    const token = spec['resumeAfter'] ?? spec['startAfter'];
    if (token !== undefined && token !== null) {
      const t = decodeToken(token);
      if (!t || t.instance !== this.ctx.instance) {
        const ts = tokenTimestamp(token);
        if (!ts) throw new ServerError(40647, 'Bad resume token: _data of missing or of wrong type. Expected string, got ' + typeof (token as Document)['_data']);
        if (oplog.historyLost(ts)) throw new ServerError(286, HISTORY_LOST_MESSAGE);
        throw new ServerError(280, NOT_FOUND_MESSAGE);
      }
      if (oplog.historyLost(t.ts)) throw new ServerError(286, HISTORY_LOST_MESSAGE);
      if (t.pos > oplog.last) throw new ServerError(280, NOT_FOUND_MESSAGE);
      const entry = oplog.at(t.pos)!;
      if (t.kind === 'hwm') {
        if (compareTimestamps(t.ts, entry.ts) < 0) throw new ServerError(280, NOT_FOUND_MESSAGE);
        return { pos: t.pos };
      }
      if (compareTimestamps(t.ts, entry.ts) !== 0) throw new ServerError(280, NOT_FOUND_MESSAGE);
      if (t.kind === 'invalidate' && spec['resumeAfter'] !== undefined) {
        throw new ServerError(260, "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.");
      }
      if (t.fragment !== undefined) return { pos: t.pos - 1, skip: { pos: t.pos, count: t.fragment + 1 } };
      return { pos: t.pos };
    }
    const at = spec['startAtOperationTime'] as Timestamp | undefined;
    if (at !== undefined) {
      if (oplog.historyLost(at)) throw new ServerError(286, HISTORY_LOST_MESSAGE);
      // A time still to come: entries written before it are not shown either.
      this.#notBefore = at;
      return { pos: oplog.positionBefore(at) };
    }
    return { pos: oplog.last };
  }

  /** The token for "everything up to here": at the current cluster time, after the last entry read. */
  #highWaterMark(now: Timestamp): ResumeToken {
    return encodeToken({ ts: now, kind: 'hwm', instance: this.ctx.instance, pos: this.pos });
  }

  #visible(e: OplogEntry): boolean {
    if (e.op === 'noop') return false;
    if (e.coll?.startsWith('system.')) return false;
    if (EXPANDED_OPS.has(e.op) && !this.render.showExpandedEvents) return false;
    const s = this.scope;
    if (s.type === 'cluster') return !INTERNAL_DBS.has(e.db);
    if (e.db !== s.db) return false;
    if (s.type === 'database') return true;
    return e.coll === s.coll && e.op !== 'dropDatabase';
  }

  #invalidates(e: OplogEntry): boolean {
    const s = this.scope;
    if (s.type === 'collection') return (e.op === 'drop' || e.op === 'rename') && e.db === s.db && e.coll === s.coll;
    if (s.type === 'database') return e.op === 'dropDatabase' && e.db === s.db;
    return false;
  }

  /**
   * The next batch: at most `limit` events and 16 MiB (at least one event), from the position on.
   * Throws a ServerError (and the cursor is dead) when an event cannot be delivered.
   */
  collect(limit: number, now: () => Timestamp): Batch {
    const batch = new BatchBuilder();
    let lastToken: ResumeToken | undefined;
    const oplog = this.ctx.oplog;
    const room = (size: number) => batch.count === 0 || batch.bytes + size <= BSON_OBJ_MAX_USER_SIZE;
    let full = false;
    while (batch.count < limit && !this.closed) {
      if (this.#fragments.length > 0) {
        const f = this.#fragments[0];
        if (!room(f.bytes.length)) {
          full = true;
          break;
        }
        this.#fragments.shift();
        batch.push(f.bytes);
        lastToken = f.token;
        continue;
      }
      if (this.#invalidateAfter) {
        const e = this.#invalidateAfter;
        const token = encodeToken({ ts: e.ts, kind: 'invalidate', instance: this.ctx.instance, pos: e.pos });
        const out = this.pipeline.apply(renderInvalidate(e, token));
        this.#invalidateAfter = undefined;
        this.closed = true;
        if (out) batch.push(toBson(out));
        lastToken = token;
        break;
      }
      if (this.pos >= oplog.last) break;
      if (this.pos < oplog.dropped) throw new ServerError(286, HISTORY_LOST_MESSAGE);
      const e = oplog.at(this.pos + 1)!;
      if (!this.#visible(e) || (this.#notBefore && compareTimestamps(e.ts, this.#notBefore) < 0)) {
        this.pos = e.pos;
        continue;
      }
      const token = (e.token ??= encodeToken({ ts: e.ts, kind: 'event', instance: this.ctx.instance, pos: e.pos }));
      const out = this.pipeline.apply(renderEvent(e, token, this.render));
      const skip = this.#skipFragments?.pos === e.pos ? this.#skipFragments.count : 0;
      this.#skipFragments = undefined;
      if (out === null) {
        if (skip > 0) throw new ServerError(280, NOT_FOUND_MESSAGE);
        this.pos = e.pos;
        if (this.#invalidates(e)) this.#invalidateAfter = e;
        continue;
      }
      const limitFor = this.pipeline.split ? MAX_CHANGE_EVENT_SIZE : BSON_OBJ_MAX_INTERNAL_SIZE;
      const { size, kept } = batch.pushEvent(out, (n) => n <= limitFor && skip === 0 && room(n));
      if (!kept && size > MAX_CHANGE_EVENT_SIZE && this.pipeline.split) {
        const all = splitEvent(out, (fragment) => encodeToken({ ts: e.ts, kind: 'event', instance: this.ctx.instance, pos: e.pos, fragment }));
        // As mongod: resuming from fragment k needs the event split into more than k fragments
        // now (the resumed one is found again, and swallowed); fragments after it follow, none
        // when it was the last: the stream goes on after the event.
        if (all.length < skip) throw new ServerError(280, DIFFERENT_SPLIT_MESSAGE);
        const fragments = all.slice(skip);
        this.pos = e.pos;
        this.#fragments = fragments.map((f) => ({ bytes: f.bytes, token: f.token }));
        if (this.#invalidates(e)) this.#invalidateAfter = e;
        continue;
      }
      // A fragment's token, and the event no longer needs splitting (mongod: ChangeStreamFatalError).
      if (skip > 0) throw new ServerError(280, DIFFERENT_SPLIT_MESSAGE);
      if (size > BSON_OBJ_MAX_INTERNAL_SIZE) {
        throw new ServerError(
          10334,
          `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and ${BSON_OBJ_MAX_INTERNAL_SIZE}(16MB) First element: _id: { _data: "${token._data}" }`,
        );
      }
      if (!kept) {
        // No room left in this batch: not consumed, the next batch renders it again.
        full = true;
        break;
      }
      this.pos = e.pos;
      lastToken = token;
      if (this.#invalidates(e)) this.#invalidateAfter = e;
    }
    if (batch.count >= limit) full = true;
    const more = this.closed ? false : full && (this.#fragments.length > 0 || this.#invalidateAfter !== undefined || this.pos < oplog.last);
    if (this.closed || this.#fragments.length > 0 || this.#invalidateAfter || more) this.#pbrt = lastToken ?? this.#pbrt;
    else this.#pbrt = this.#highWaterMark(now());
    return { docs: batch, pbrt: this.#pbrt, closed: this.closed };
  }
}

function mode(v: unknown, allowed: string[], field: string, fallback: string): string {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !allowed.includes(v)) {
    throw new ServerError(2, `Enumeration value '${String(v)}' for field '$changeStream.${field}' is not a valid value.`);
  }
  return v;
}
