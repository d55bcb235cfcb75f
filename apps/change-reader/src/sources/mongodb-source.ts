import { calculateObjectSize, EJSON } from 'bson';
import { type ChangeStream, type ChangeStreamOptions, type Document, MongoClient, type MongoClientOptions, MongoServerError } from 'mongodb';
import type { ResumeToken } from '@runnel/checkpoint';
import { ConfigError, type Secret } from '@runnel/config';
import { type ChangeSource, HistoryLostError, MAX_BSON_OBJECT_SIZE, OversizeEventError, type ResumePoint, type SkippedEvent, type SourceChange, type SourceItem } from './change-source';
import { keepExactBsonTypes } from './exact-bson-cursors';
import { tokenClusterTime } from './resume-token-time';
import { BrokenSplitEventError, SplitEventAssembler } from './split-event-assembler';
import { bridge, type OpenStream, probe, probeSplitEvent, type StreamStart } from './unsplittable-event';

/** Server error 286: the resume point has left the oplog. */
const CHANGE_STREAM_HISTORY_LOST = 286;
/**
 * Server error 280 (ChangeStreamFatalError): on resume it means the token's position cannot be
 * found (e.g. "resume token was not found"); retrying the same token fails forever, so it is
 * handled like history lost and ON_HISTORY_LOST decides.
 */
const CHANGE_STREAM_FATAL = 280;
/** Server error 10334 (BSONObjectTooLarge): a change event over 16 MB, without the split stage (or one it could not split). */
const BSON_OBJECT_TOO_LARGE = 10334;
/** `$changeStreamSplitLargeEvent` could not make fragments small enough: a single top-level field is too large. */
const SPLIT_FRAGMENT_TOO_LARGE = 7182500;
/** Unrecognized pipeline stage name (a server before 7.0 / 6.0.9 meeting `$changeStreamSplitLargeEvent`). */
const UNRECOGNIZED_STAGE = 40324;
/**
 * Times in a row the source re-reads a split event from the position before it (a fragment from a
 * resumed cursor, or an error between fragments) before it gives up and throws.
 */
const SPLIT_REREADS = 3;

export const SPLIT_STAGE = { $changeStreamSplitLargeEvent: {} } as const;

export type FullDocumentMode = 'updateLookup' | 'whenAvailable' | 'required' | 'default';
export type FullDocumentBeforeChangeMode = 'off' | 'whenAvailable' | 'required';
/** OVERSIZE_EVENTS: what happens to a change event over 16 MB. */
export type OversizeEventsMode = 'split' | 'skip' | 'fail';

export interface MongoSourceOptions {
  /** Connection string; revealed only to connect. */
  uri: Secret;
  /** Unset: every database of the deployment (client.watch). */
  database?: string;
  /** One: that collection (coll.watch). Several: db.watch with a `$match` on them. None: the whole database. */
  collections: string[];
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: FullDocumentBeforeChangeMode;
  /** Extra stages appended after Runnel's own (and before `$changeStreamSplitLargeEvent`, which must be last). */
  pipeline: Document[];
  /** Default split. */
  oversizeEvents?: OversizeEventsMode;
  /** How long an idle getMore waits on the server; each one returns a fresh post-batch resume token. Default 1000. */
  maxAwaitTimeMS?: number;
  /** An unchanged idle token is reported again at most this often (keeps the checkpoint's age fresh). Default 10 s. */
  idleRepeatMs?: number;
  /** Extra driver options (tests: short server selection timeouts). */
  clientOptions?: MongoClientOptions;
}

export type WatchScope =
  | { kind: 'collection'; database: string; collection: string }
  | { kind: 'database'; database: string; collections: string[] }
  | { kind: 'deployment' };

export function watchScope(database: string | undefined, collections: string[]): WatchScope {
  if (!database) {
    if (collections.length > 0) {
      throw new ConfigError([{ variable: 'MONGODB_COLLECTIONS', reason: 'needs MONGODB_DATABASE (without it the whole deployment is watched)' }]);
    }
    return { kind: 'deployment' };
  }
  if (collections.length === 1) return { kind: 'collection', database, collection: collections[0] };
  return { kind: 'database', database, collections: [...collections] };
}

/**
 * The stream's name: the key of its checkpoint and lease, and part of every object name. It must
 * differ between scopes that see different events, or two readers watching different collections
 * of one database would share a lease and a checkpoint: `shop.orders`, `shop.{orders,users}`
 * (sorted), `shop` (all collections), `*` (the deployment).
 */
export function streamName(scope: WatchScope): string {
  if (scope.kind === 'collection') return `${scope.database}.${scope.collection}`;
  if (scope.kind === 'deployment') return '*';
  return scope.collections.length === 0 ? scope.database : `${scope.database}.{${[...scope.collections].sort().join(',')}}`;
}

export { tokenClusterTime } from './resume-token-time';

const tokenKey = (token: ResumeToken): string => EJSON.stringify(token, { relaxed: false });

const ABORTED = Symbol('aborted');

/** `promise`, or ABORTED as soon as `signal` aborts (the promise's later rejection is swallowed). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  promise.catch(() => undefined);
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

/**
 * The position a read has reported: between whole events. `clean` is the last one that is not a
 * fragment's token (after a split event the token is its last fragment's, which resumes only
 * with the split stage), and `sinceClean` counts the events reported after it.
 */
class StreamPosition {
  point: ResumePoint | undefined;
  clean: ResumePoint | undefined;
  sinceClean = 0;
  #fragmentKey: string | undefined;

  constructor(from: ResumePoint | undefined) {
    this.point = from;
    this.clean = from;
  }

  /** After an event (or a skipped one); `lastFragment`: the token of its last fragment, if it was split. */
  event(token: ResumeToken, lastFragment?: ResumeToken): void {
    this.point = { token };
    // (Keys only for split events: this runs for every event.)
    const key = lastFragment ? tokenKey(token) : undefined;
    if (lastFragment && tokenKey(lastFragment) === key) {
      this.#fragmentKey = key;
      this.sinceClean++;
    } else {
      this.clean = this.point;
      this.sinceClean = 0;
    }
  }

  /** A post-batch token while idle (repeated: it may still be a fragment's). */
  idle(token: ResumeToken): void {
    this.point = { token };
    if (this.#fragmentKey !== undefined && tokenKey(token) === this.#fragmentKey) return;
    this.clean = this.point;
    this.sinceClean = 0;
  }
}

/**
 * Change events from a MongoDB replica set or sharded cluster, through the official driver's
 * change stream. The driver resumes by itself after resumable errors (network, failover, cursor
 * lost); this class adds what Runnel needs on top: a token before the first event, idle tokens,
 * invalidate handling and history-lost detection.
 */
export class MongoChangeSource implements ChangeSource {
  readonly stream: string;
  readonly scope: WatchScope;
  readonly #o: MongoSourceOptions;

  constructor(options: MongoSourceOptions) {
    this.#o = options;
    this.scope = watchScope(options.database, options.collections);
    this.stream = streamName(this.scope);
  }

  /** For the startup log: what is watched, never the URI. */
  describe(): string {
    const s = this.scope;
    if (s.kind === 'collection') return `collection ${s.database}.${s.collection}`;
    if (s.kind === 'database') return s.collections.length ? `database ${s.database}, collections ${s.collections.join(', ')}` : `database ${s.database}, all collections`;
    return 'deployment, all databases';
  }

  get oversizeEvents(): OversizeEventsMode {
    return this.#o.oversizeEvents ?? 'split';
  }

  /**
   * The stages after `$changeStream` (which the driver adds itself): the collection filter, the
   * user's PIPELINE, and with OVERSIZE_EVENTS=split/skip `$changeStreamSplitLargeEvent`, which the
   * server accepts only as the last stage.
   */
  pipeline(o: { split?: boolean; stages?: Document[] } = {}): Document[] {
    const stages: Document[] = [];
    if (this.scope.kind === 'database' && this.scope.collections.length > 1) stages.push({ $match: { 'ns.coll': { $in: this.scope.collections } } });
    stages.push(...this.#o.pipeline, ...(o.stages ?? []));
    if (o.split ?? this.oversizeEvents !== 'fail') stages.push(SPLIT_STAGE);
    return stages;
  }

  watchOptions(from: ResumePoint | undefined): ChangeStreamOptions {
    const o = this.#o;
    // No BSON options here: values keep their exact types through keepExactBsonTypes, which
    // changes how the cursor decodes documents only (promoteValues: false here would also decode
    // server errors that way and break the driver's resume after CursorNotFound).
    const options: ChangeStreamOptions = { maxAwaitTimeMS: o.maxAwaitTimeMS ?? 1000 };
    if (o.fullDocument !== 'default') options.fullDocument = o.fullDocument;
    if (o.fullDocumentBeforeChange !== 'off') options.fullDocumentBeforeChange = o.fullDocumentBeforeChange;
    if (from) {
      if (from.startAfter) options.startAfter = from.token;
      else options.resumeAfter = from.token;
    }
    return options;
  }

  /** A change stream from `from`; `o` changes the pipeline (see pipeline()) and the batch size. */
  #watch(client: MongoClient, from: StreamStart | undefined, o: { split?: boolean; batchSize?: number; stages?: Document[]; maxAwaitTimeMS?: number } = {}): ChangeStream {
    const s = this.scope;
    const pipeline = this.pipeline(o);
    const options = this.watchOptions(from && 'token' in from ? from : undefined);
    if (from && 'operationTime' in from) options.startAtOperationTime = from.operationTime;
    if (o.batchSize) options.batchSize = o.batchSize;
    if (o.maxAwaitTimeMS) options.maxAwaitTimeMS = o.maxAwaitTimeMS;
    if (s.kind === 'collection') return client.db(s.database).collection(s.collection).watch(pipeline, options);
    if (s.kind === 'database') return client.db(s.database).watch(pipeline, options);
    return client.watch(pipeline, options);
  }

  /**
   * The stream's position now, "before any event", as a fresh read's first idle item reports it
   * (the post-batch resume token of the first, empty batch), on `client` — without the fresh
   * read's wait of maxAwaitTimeMS for a getMore: the snapshot takes it before reading anything.
   */
  async position(client: MongoClient): Promise<ResumeToken> {
    const cs = this.#watch(client, undefined, { maxAwaitTimeMS: 1 });
    const seen: ResumeToken[] = [];
    cs.on('resumeTokenChanged', (t) => seen.push(t as ResumeToken));
    try {
      // As in read(): if an event comes at once, the token set before its own is the position before it.
      const next = await cs.tryNext();
      const before = next ? seen.at(-2) : ((cs.resumeToken as ResumeToken | null) ?? undefined);
      if (!before) throw new Error(`change stream for ${this.stream} reported no position before its first event`);
      return before;
    } finally {
      await cs.close().catch(() => undefined);
    }
  }

  /** A client to the deployment (not connected), as the change stream uses: for the snapshot's reads. */
  newClient(): MongoClient {
    return new MongoClient(this.#o.uri.reveal(), { appName: 'runnel-change-reader', ...this.#o.clientOptions });
  }

  async *read(from: ResumePoint | undefined, signal: AbortSignal): AsyncIterable<SourceItem> {
    if (signal.aborted) return;
    const idleRepeatMs = this.#o.idleRepeatMs ?? 10_000;
    const mode = this.oversizeEvents;
    const client = this.newClient();
    let cs: ChangeStream | undefined;
    // Where the stream stands: always between whole events, never inside a split event, whose
    // fragments each carry a token of their own.
    const at = new StreamPosition(from);
    const split = new SplitEventAssembler();
    let cursors = 0; // cursors the driver opened, counted by keepExactBsonTypes (a resume opens one)
    let rereads = 0; // consecutive re-reads of one split event
    // OVERSIZE_EVENTS=skip met an event the server cannot split: read one event per batch until
    // the failure pins it as the first event after the position (see unsplittable-event.ts).
    let stepping = false;
    const open: OpenStream = (point, o) => this.#watch(client, point, o);
    try {
      if ((await unlessAborted(client.connect(), signal)) === ABORTED) return;
      let lastKey = from ? tokenKey(from.token) : undefined;
      let lastYield = Date.now();
      let fresh = !from;

      // One change stream per pass. A pass ends early to read a split event again from the
      // position before its first fragment (see SplitEventAssembler for why a split must come
      // from one cursor), or to get past an event that cannot be split; the next pass resumes
      // from the position.
      for (;;) {
        cs = this.#watch(client, at.point, stepping ? { batchSize: 1 } : {});
        keepExactBsonTypes(cs, () => cursors++);

        // A fresh start must report a position before its first event (as the synthetic source
        // does), or a crash while the first batch is open would resume *after* that event. The
        // first tryNext sends the aggregate, and a getMore when the first batch is empty; both
        // empty responses set the token to their post-batch resume token, which is exactly "now,
        // before any event". Should that tryNext already return an event, its own token is the
        // last one set (the driver caches it just before returning), so the one set before it is
        // the position before the event.
        const seen: ResumeToken[] = [];
        const record = (t: unknown) => seen.push(t as ResumeToken);
        if (fresh) cs.on('resumeTokenChanged', record);

        let end: { reread: unknown } | { unsplittable: MongoServerError } | { refused: MongoServerError } | { caughtUp: true } | undefined;
        while (!signal.aborted && !end) {
          let next: Document | null | typeof ABORTED;
          try {
            next = await unlessAborted(cs.tryNext(), signal);
          } catch (err) {
            if (signal.aborted) return;
            // An event the server cannot split fails every batch it is in, on every read: with
            // skip, step up to it and past it; otherwise it is OversizeEventError (#translate).
            if (this.#unsplittable(err)) {
              if (mode !== 'skip') throw err;
              end = { unsplittable: err };
              break;
            }
            // A resume refused with 280. After a split event the position is its last fragment's
            // token, and the server refuses it when it now splits the event differently (its
            // updateLookup document changed size, or the split stage is gone): look for that event
            // before calling it history lost.
            if (!split.pending && at.point && this.#refused(err)) {
              end = { refused: err };
              break;
            }
            // Between fragments, any other error the driver did not resume by itself (e.g. 280
            // when its own resume from a fragment's token met a different split) is met by
            // reading the event again from before it; only errors that persist there count.
            if (!split.pending || rereads >= SPLIT_REREADS) throw err;
            end = { reread: err };
            break;
          }
          if (next === ABORTED) return;
          if (fresh) {
            fresh = false;
            cs.off('resumeTokenChanged', record);
            const before = next ? seen.at(-2) : (cs.resumeToken as ResumeToken | null);
            if (before) {
              at.idle(before);
              lastKey = tokenKey(before);
              lastYield = Date.now();
              yield { type: 'idle', token: before, clusterTime: tokenClusterTime(before) };
            }
          }
          if (next) {
            let change = next as unknown as SourceChange;
            let fragments: number | undefined;
            if (!split.pending && this.#tailOfReported(next, at)) continue;
            if (split.pending || SplitEventAssembler.isFragment(next)) {
              let assembled;
              try {
                assembled = split.add(next, cursors);
              } catch (err) {
                if (!(err instanceof BrokenSplitEventError) || rereads >= SPLIT_REREADS) throw err;
                end = { reread: err };
                break;
              }
              // Inside the event: no item, no position (the token before its first fragment is
              // the position until the last fragment is in).
              if (!assembled) continue;
              ({ change, fragments } = assembled);
              rereads = 0;
            }
            if (change.operationType === 'invalidate') {
              // The server closed the cursor after it. Only startAfter may continue from here.
              yield { type: 'invalidate', token: change._id };
              return;
            }
            // The token "after this event". The driver sets it to the event's _id, or to the
            // batch's post-batch resume token (PBRT) when this event was the last one buffered.
            // Both are safe: the PBRT is where the server had scanned to when it ended the batch,
            // and every event before it is in that batch, all of them already returned to us by
            // now, so resuming from it skips nothing we have not seen (only non-matching oplog
            // entries). It is also what the driver itself resumes from after an error, so the
            // reader's checkpoint and the driver's resume point stay the same token. After a
            // split event it is its last fragment's token (or the PBRT): resuming from it goes
            // on after the whole event, but only with the split stage in the pipeline (the
            // server refuses a fragment's token without it, 280), so it is replaced as soon as
            // the stream moves on.
            const token = cs.resumeToken as ResumeToken;
            at.event(token, fragments ? change._id : undefined);
            lastKey = tokenKey(token);
            lastYield = Date.now();
            yield this.#item(change, token, fragments);
            continue;
          }
          if (split.pending) continue; // an empty batch between fragments: still no position
          if (cs.closed) {
            // The server ended the cursor without an invalidate (unexpected): restart reading.
            throw new Error(`change stream for ${this.stream} was closed by the server`);
          }
          // No event within maxAwaitTimeMS: the empty getMore moved the token to the new PBRT.
          const token = cs.resumeToken as ResumeToken | null;
          if (!token) continue;
          const key = tokenKey(token);
          if (key === lastKey && Date.now() - lastYield < idleRepeatMs) continue;
          at.idle(token);
          lastKey = key;
          lastYield = Date.now();
          yield { type: 'idle', token, clusterTime: tokenClusterTime(token) };
          // Stepping reached the end of the stream without meeting the event again (its
          // updateLookup document may have shrunk): read batches as usual again.
          if (stepping) end = { caughtUp: true };
        }
        if (!end) return; // aborted
        split.reset();
        await cs.close().catch(() => undefined);
        cs = undefined;

        if ('caughtUp' in end) {
          stepping = false;
          continue;
        }
        if ('refused' in end) {
          // Find the split event the position is after, read whole without its large fields from
          // its cluster time on, and get past it without the split stage (unsplittable-event.ts).
          const point = (at.point as ResumePoint).token; // set: only a resume can be refused
          const clusterTime = tokenClusterTime(point);
          const refused = end.refused;
          // Not a split event's position after all (or it cannot be found): what the 280 says.
          const lost = (err?: unknown) =>
            /split event/i.test(refused.message) ? new OversizeEventError(this.stream, 'unresumable-split', mode, err ? new AggregateError([refused, err], 'the position after the split event could not be found again') : refused) : new HistoryLostError(this.stream, refused);
          let after;
          try {
            const found = clusterTime ? await probeSplitEvent(open, point, clusterTime, signal) : undefined;
            if (signal.aborted) return;
            if (!found) throw lost();
            after = await bridge(open, found.token, signal);
          } catch (err) {
            if (signal.aborted) return;
            if (err instanceof HistoryLostError || err instanceof OversizeEventError) throw err;
            // Only the server's answer is final. A network error or a timeout on the way says
            // nothing about the event: the reader retries, and the resume is refused and the
            // event looked for again. A 286 means the event itself has left the oplog.
            if (!(err instanceof MongoServerError)) throw err;
            throw err.code === CHANGE_STREAM_HISTORY_LOST || err.codeName === 'ChangeStreamHistoryLost' ? new HistoryLostError(this.stream, err) : lost(err);
          }
          if (!after) return; // aborted
          lastKey = tokenKey(after.token);
          lastYield = Date.now();
          if (!after.change) {
            at.idle(after.token);
            yield { type: 'idle', token: after.token, clusterTime: tokenClusterTime(after.token) };
            continue;
          }
          if (after.change.operationType === 'invalidate') {
            yield { type: 'invalidate', token: after.change._id };
            return;
          }
          at.event(after.token);
          yield this.#item(after.change, after.token, undefined);
          continue;
        }
        if ('reread' in end) {
          // Read the split event again, from the position before its first fragment.
          rereads++;
          if (!at.point) {
            // A fresh start whose very first event was split, and no token before it: the reader
            // restarts from its own checkpoint.
            throw new Error(`change stream for ${this.stream} lost a split event before reporting any position`, { cause: end.reread });
          }
          continue;
        }

        // OVERSIZE_EVENTS=skip, and an event the server cannot split failed the batch.
        const cause = end.unsplittable;
        if (!at.point || !at.clean) throw new OversizeEventError(this.stream, 'unsplittable', mode, cause);
        if (!stepping) {
          stepping = true;
          continue;
        }
        // The event is the first one after the position.
        let found;
        let after;
        try {
          found = await probe(open, at.clean, at.sinceClean, signal);
          after = found && (await bridge(open, found.token, signal));
        } catch (err) {
          throw new OversizeEventError(this.stream, 'unsplittable', mode, new AggregateError([cause, err], 'the event could not be skipped either'));
        }
        if (!found || !after) return; // aborted
        const e = found.change;
        const skipped: SkippedEvent = {
          type: 'skipped',
          // With an event after it, the position before the skipped event: the event's own token
          // resumes only without the split stage. A replay skips it again.
          token: after.change ? at.point.token : after.token,
          reason: `change event cannot be split into fragments under 16 MB: one of its top-level fields alone is over 16 MB (server error ${cause.code}; OVERSIZE_EVENTS=skip)`,
          namespace: e.ns ?? { db: '' },
          documentKey: e.documentKey,
          operationType: e.operationType,
          clusterTime: e.clusterTime,
        };
        lastYield = Date.now();
        if (!after.change) {
          at.event(after.token);
          lastKey = tokenKey(after.token);
          yield skipped;
        } else {
          yield skipped; // the position stays where it was
          if (after.change.operationType === 'invalidate') {
            yield { type: 'invalidate', token: after.change._id };
            return;
          }
          at.event(after.token);
          lastKey = tokenKey(after.token);
          yield this.#item(after.change, after.token, undefined);
        }
        stepping = false;
      }
    } catch (err) {
      if (signal.aborted) return;
      throw this.#translate(err, split.pending || rereads > 0);
    } finally {
      // Kills the server cursor (killCursors) and ends the session, then closes the connections.
      await cs?.close().catch(() => undefined);
      await client.close().catch(() => undefined);
    }
  }

  /** A change item, or with OVERSIZE_EVENTS=skip the skipped item for an event above 16 MiB. */
  #item(change: SourceChange, token: ResumeToken, fragments: number | undefined): SourceItem {
    const skipped = this.oversizeEvents === 'skip' ? this.#tooLarge(change, token) : undefined;
    if (skipped) return skipped;
    return fragments ? { type: 'change', change, token, fragments } : { type: 'change', change, token };
  }

  /**
   * A fragment after which nothing is pending, at the cluster time of the position: the rest of
   * the split event the position is after, which was reported whole. It comes when the stream
   * resumes from that event's last fragment and the server, splitting it again with a larger
   * updateLookup document, makes more fragments than before (it goes on after the one the token
   * names). Dropped.
   */
  #tailOfReported(doc: Document, at: StreamPosition): boolean {
    const n = SplitEventAssembler.fragmentNumber(doc);
    if (n === undefined || n <= 1 || !at.point) return false;
    const here = tokenClusterTime(at.point.token);
    return here !== undefined && tokenClusterTime(doc['_id'] as ResumeToken) === here;
  }

  /** 280 ChangeStreamFatalError: the server cannot find the position (e.g. "Attempted to resume from a split event…"). */
  #refused(err: unknown): err is MongoServerError {
    return err instanceof MongoServerError && (err.code === CHANGE_STREAM_FATAL || err.codeName === 'ChangeStreamFatalError');
  }

  /** The server could not split an event (a single field over 16 MB): 7182500, or 10334 with the split stage on. */
  #unsplittable(err: unknown): err is MongoServerError {
    return err instanceof MongoServerError && (err.code === SPLIT_FRAGMENT_TOO_LARGE || err.code === BSON_OBJECT_TOO_LARGE || err.codeName === 'BSONObjectTooLarge');
  }

  /** OVERSIZE_EVENTS=skip: the skipped item for an event above 16 MiB, or undefined. */
  #tooLarge(change: SourceChange, token: ResumeToken): SkippedEvent | undefined {
    const bytes = calculateObjectSize(change as unknown as Document);
    if (bytes <= MAX_BSON_OBJECT_SIZE) return undefined;
    return {
      type: 'skipped',
      token,
      reason: `change event of ${bytes} bytes of BSON is larger than 16 MiB (OVERSIZE_EVENTS=skip)`,
      namespace: change.ns ?? { db: '' },
      documentKey: change.documentKey,
      operationType: change.operationType,
      clusterTime: change.clusterTime,
      bytes,
    };
  }

  /** A driver error as what it means for Runnel. `splitting`: it came while reading a split event. */
  #translate(err: unknown, splitting: boolean): unknown {
    if (!(err instanceof MongoServerError)) return err;
    const mode = this.oversizeEvents;
    // While re-reading a split event, a 280 is the server refusing a fragment's position (a
    // different split), not a resume point that left the oplog: never history lost.
    const historyLost = err.code === CHANGE_STREAM_HISTORY_LOST || err.codeName === 'ChangeStreamHistoryLost';
    const fatal = err.code === CHANGE_STREAM_FATAL || err.codeName === 'ChangeStreamFatalError';
    if (historyLost || (fatal && !splitting)) return new HistoryLostError(this.stream, err);
    if (err.code === BSON_OBJECT_TOO_LARGE || err.codeName === 'BSONObjectTooLarge') {
      return new OversizeEventError(this.stream, mode === 'fail' ? 'too-large' : 'unsplittable', mode, err);
    }
    if (err.code === SPLIT_FRAGMENT_TOO_LARGE) return new OversizeEventError(this.stream, 'unsplittable', mode, err);
    if (err.code === UNRECOGNIZED_STAGE && mode !== 'fail' && err.message.includes('$changeStreamSplitLargeEvent')) {
      return new OversizeEventError(this.stream, 'unsupported', mode, err);
    }
    return err;
  }
}

/** The fields of change-reader's config the MongoDB source reads. */
export interface MongoSourceConfig {
  MONGODB_URI?: Secret;
  MONGODB_DATABASE?: string;
  MONGODB_COLLECTIONS: string[];
  FULL_DOCUMENT: FullDocumentMode;
  FULL_DOCUMENT_BEFORE_CHANGE: FullDocumentBeforeChangeMode;
  /** JSON array (Extended JSON allowed, e.g. `{"$date": …}`). */
  PIPELINE: string;
  /** Unset: split. */
  OVERSIZE_EVENTS?: OversizeEventsMode;
}

export function createMongoSource(config: MongoSourceConfig, extra: Pick<MongoSourceOptions, 'maxAwaitTimeMS' | 'idleRepeatMs' | 'clientOptions'> = {}): MongoChangeSource {
  if (!config.MONGODB_URI) throw new ConfigError([{ variable: 'MONGODB_URI', reason: 'required with SOURCE=mongodb' }]);
  try {
    // Parses the connection string and its options without connecting: a typo fails at start-up,
    // not as a read error retried forever. (The driver's messages never include the password.)
    new MongoClient(config.MONGODB_URI.reveal());
  } catch (err) {
    throw new ConfigError([{ variable: 'MONGODB_URI', reason: `not a valid MongoDB connection string: ${(err as Error).message}` }]);
  }
  const pipeline: unknown = EJSON.parse(config.PIPELINE, { relaxed: true });
  if (!Array.isArray(pipeline) || pipeline.some((s) => typeof s !== 'object' || s === null || Array.isArray(s))) {
    throw new ConfigError([{ variable: 'PIPELINE', reason: 'must be a JSON array of aggregation stages' }]);
  }
  return new MongoChangeSource({
    uri: config.MONGODB_URI,
    database: config.MONGODB_DATABASE,
    collections: config.MONGODB_COLLECTIONS,
    fullDocument: config.FULL_DOCUMENT,
    fullDocumentBeforeChange: config.FULL_DOCUMENT_BEFORE_CHANGE,
    pipeline: pipeline as Document[],
    oversizeEvents: config.OVERSIZE_EVENTS ?? 'split',
    ...extra,
  });
}
