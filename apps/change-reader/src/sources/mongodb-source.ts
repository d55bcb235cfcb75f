import { EJSON } from 'bson';
import { type ChangeStream, type ChangeStreamOptions, type Document, MongoClient, type MongoClientOptions, MongoServerError } from 'mongodb';
import type { ResumeToken } from '@runnel/checkpoint';
import { ConfigError, type Secret } from '@runnel/config';
import { type ChangeSource, HistoryLostError, type ResumePoint, type SourceChange, type SourceItem } from './change-source';

/** Server error 286: the resume point has left the oplog. */
const CHANGE_STREAM_HISTORY_LOST = 286;
/**
 * Server error 280 (ChangeStreamFatalError): on resume it means the token's position cannot be
 * found (e.g. "resume token was not found"); retrying the same token fails forever, so it is
 * handled like history lost and ON_HISTORY_LOST decides.
 */
const CHANGE_STREAM_FATAL = 280;

export type FullDocumentMode = 'updateLookup' | 'whenAvailable' | 'required' | 'default';
export type FullDocumentBeforeChangeMode = 'off' | 'whenAvailable' | 'required';

export interface MongoSourceOptions {
  /** Connection string; revealed only to connect. */
  uri: Secret;
  /** Unset: every database of the deployment (client.watch). */
  database?: string;
  /** One: that collection (coll.watch). Several: db.watch with a `$match` on them. None: the whole database. */
  collections: string[];
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: FullDocumentBeforeChangeMode;
  /** Extra stages appended after Runnel's own. */
  pipeline: Document[];
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

/**
 * The cluster time a resume token stands for, as `<seconds>.<increment>` (clusterTimeText's format),
 * or undefined. Tokens are opaque, but every server since 4.2 writes `_data` as a hex KeyString
 * that opens with the timestamp (type byte 0x82, then 4 bytes of seconds and 4 of increment, big
 * endian); Debezium reads its idle positions the same way. Best effort, for idle checkpoints only.
 */
export function tokenClusterTime(token: ResumeToken | null | undefined): string | undefined {
  const data = token?.['_data'];
  if (typeof data !== 'string' || !/^82[0-9a-f]{16}/i.test(data)) return undefined;
  return `${parseInt(data.slice(2, 10), 16)}.${parseInt(data.slice(10, 18), 16)}`;
}

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

  /** The stages after `$changeStream` (which the driver adds itself). */
  pipeline(): Document[] {
    const stages: Document[] = [];
    if (this.scope.kind === 'database' && this.scope.collections.length > 1) stages.push({ $match: { 'ns.coll': { $in: this.scope.collections } } });
    return [...stages, ...this.#o.pipeline];
  }

  watchOptions(from: ResumePoint | undefined): ChangeStreamOptions {
    const o = this.#o;
    // useBigInt64 keeps 64-bit integers 64-bit: by default the driver turns a Long that fits in a
    // double into a JS number, and the lake would get {"$numberInt":"700"} for a stored
    // {"$numberLong":"700"}; a bigint is written back as $numberLong. (promoteValues: false would
    // also keep doubles and int32s as such, but the driver then decodes server errors with it too:
    // MongoServerError.code becomes an Int32 object, `code === 43` fails inside the driver, and it
    // stops resuming after CursorNotFound. So a double holding an integer (5.0) still reaches the
    // lake as {"$numberInt":"5"}.)
    const options: ChangeStreamOptions = { maxAwaitTimeMS: o.maxAwaitTimeMS ?? 1000, useBigInt64: true };
    if (o.fullDocument !== 'default') options.fullDocument = o.fullDocument;
    if (o.fullDocumentBeforeChange !== 'off') options.fullDocumentBeforeChange = o.fullDocumentBeforeChange;
    if (from) {
      if (from.startAfter) options.startAfter = from.token;
      else options.resumeAfter = from.token;
    }
    return options;
  }

  #watch(client: MongoClient, from: ResumePoint | undefined): ChangeStream {
    const s = this.scope;
    const pipeline = this.pipeline();
    const options = this.watchOptions(from);
    if (s.kind === 'collection') return client.db(s.database).collection(s.collection).watch(pipeline, options);
    if (s.kind === 'database') return client.db(s.database).watch(pipeline, options);
    return client.watch(pipeline, options);
  }

  async *read(from: ResumePoint | undefined, signal: AbortSignal): AsyncIterable<SourceItem> {
    if (signal.aborted) return;
    const idleRepeatMs = this.#o.idleRepeatMs ?? 10_000;
    const client = new MongoClient(this.#o.uri.reveal(), { appName: 'runnel-change-reader', ...this.#o.clientOptions });
    let cs: ChangeStream | undefined;
    try {
      if ((await unlessAborted(client.connect(), signal)) === ABORTED) return;
      cs = this.#watch(client, from);

      // A fresh start must report a position before its first event (as the synthetic source
      // does), or a crash while the first batch is open would resume *after* that event. The
      // first tryNext sends the aggregate, and a getMore when the first batch is empty; both
      // empty responses set the token to their post-batch resume token, which is exactly "now,
      // before any event". Should that tryNext already return an event, its own token is the
      // last one set (the driver caches it just before returning), so the one set before it is
      // the position before the event.
      const seen: ResumeToken[] = [];
      const record = (t: unknown) => seen.push(t as ResumeToken);
      if (!from) cs.on('resumeTokenChanged', record);
      let fresh = !from;

      let lastKey = from ? tokenKey(from.token) : undefined;
      let lastYield = Date.now();
      while (!signal.aborted) {
        const next = await unlessAborted(cs.tryNext(), signal);
        if (next === ABORTED) return;
        if (fresh) {
          fresh = false;
          cs.off('resumeTokenChanged', record);
          const before = next ? seen.at(-2) : (cs.resumeToken as ResumeToken | null);
          if (before) {
            lastKey = tokenKey(before);
            lastYield = Date.now();
            yield { type: 'idle', token: before, clusterTime: tokenClusterTime(before) };
          }
        }
        if (next) {
          const change = next as unknown as SourceChange;
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
          // reader's checkpoint and the driver's resume point stay the same token.
          const token = cs.resumeToken as ResumeToken;
          lastKey = tokenKey(token);
          lastYield = Date.now();
          yield { type: 'change', change, token };
          continue;
        }
        if (cs.closed) {
          // The server ended the cursor without an invalidate (unexpected): restart reading.
          throw new Error(`change stream for ${this.stream} was closed by the server`);
        }
        // No event within maxAwaitTimeMS: the empty getMore moved the token to the new PBRT.
        const token = cs.resumeToken as ResumeToken | null;
        if (!token) continue;
        const key = tokenKey(token);
        if (key === lastKey && Date.now() - lastYield < idleRepeatMs) continue;
        lastKey = key;
        lastYield = Date.now();
        yield { type: 'idle', token, clusterTime: tokenClusterTime(token) };
      }
    } catch (err) {
      if (
        err instanceof MongoServerError &&
        (err.code === CHANGE_STREAM_HISTORY_LOST || err.codeName === 'ChangeStreamHistoryLost' || err.code === CHANGE_STREAM_FATAL || err.codeName === 'ChangeStreamFatalError')
      ) {
        throw new HistoryLostError(this.stream, err);
      }
      if (signal.aborted) return;
      throw err;
    } finally {
      // Kills the server cursor (killCursors) and ends the session, then closes the connections.
      await cs?.close().catch(() => undefined);
      await client.close().catch(() => undefined);
    }
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
    ...extra,
  });
}
