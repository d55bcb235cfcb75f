import { createServer, type Server, type Socket } from 'node:net';
import { Binary, calculateObjectSize, deserialize, type Document, EJSON, Long, ObjectId, serialize, Timestamp } from 'bson';

/**
 * A scripted MongoDB wire-protocol server, for testing change stream code against the REAL driver.
 *
 * It speaks just enough of the protocol for `mongodb://127.0.0.1:<port>/?directConnection=true`:
 * the handshake (legacy OP_QUERY isMaster → OP_REPLY, as the driver sends it before it knows the
 * wire version), then OP_MSG hello/isMaster as a replica set primary (maxWireVersion 21 = 7.0),
 * ping, buildInfo, endSessions, aggregate with a `$changeStream` first stage, getMore, killCursors,
 * and a little CRUD by `_id` (create, insert, update, delete, drop) that writes change events.
 * User stages: `$match` (equality, $eq, $in, $nin) and exclusion `$project`.
 *
 * Change streams are served from a scripted oplog, so resuming is real: a cursor has a position in
 * the oplog, resumeAfter/startAfter map a token back to its position, every getMore returns the
 * events after it (filtered by the stream's scope and simple `$match` stages) with a post-batch
 * resume token, an idle getMore waits up to its maxTimeMS for new entries, and a driver that
 * resumes from the wrong token would see events lost or repeated. Failures are injected per
 * command (server errors with codes and labels, or a dropped connection). Everything received is
 * recorded for assertions.
 *
 * Size rules as mongod 7.0 applies them to change streams: a batch holds at most 16 MiB of events
 * (at least one); an event whose BSON exceeds 16 MB + 16 KB fails the cursor with 10334
 * BSONObjectTooLarge, unless the pipeline ends with `$changeStreamSplitLargeEvent`, which cuts an
 * event over 16 MB + 8 KB into fragments the server's way (top-level fields ordered by size, as
 * many as fit in each, each fragment with its own token and `splitEvent: {fragment, of}`), fails
 * with 7182500 when one field alone does not fit, and on a resume from a fragment's token splits
 * the event again and goes on after that fragment (280 when the new split has fewer fragments,
 * the event no longer needs splitting, or the stage is missing).
 */

export interface Token {
  _data: string;
}

export type Failure = { code: number; codeName?: string; errmsg?: string; errorLabels?: string[] } | { closeConnection: true };

export interface ReceivedCommand {
  name: string;
  db: string;
  body: Document;
}

export interface ChangeStreamAggregate {
  db: string;
  /** The collection name, or 1 for database and deployment streams. */
  aggregate: string | number;
  /** The `$changeStream` stage's options (resumeAfter, startAfter, fullDocument, allChangesForCluster…). */
  options: Document;
  /** The stages after `$changeStream`. */
  pipeline: Document[];
}

/** What updateLookup finds: a document, or a function asked each time the event is read (the document as it is then). */
export type Lookup = Document | null | (() => Document | null);

interface Entry {
  index: number;
  ts: Timestamp;
  wallTime: Date;
  token: Token;
  kind: 'event' | 'noop' | 'invalidate';
  /** The change event as stored; fullDocument of updates and pre-images are added per cursor options. */
  event?: Document;
  postImage?: Lookup;
  preImage?: Document | null;
  /** For an invalidate: the namespace (`db.coll`) whose collection streams it ends. */
  invalidates?: string;
}

interface Cursor {
  id: number;
  ns: string;
  scope: { db?: string; coll?: string };
  pos: number;
  pbrt: Token;
  options: Document;
  matches: Document[];
  /** Exclusion `$project` stages (paths set to 0), applied after the events are rendered. */
  exclusions: string[];
  /** The pipeline ends with $changeStreamSplitLargeEvent. */
  split: boolean;
  /** Fragments of a split event not yet returned. */
  queue: Document[];
  killed: boolean;
}

interface TokenRef {
  /** Position to continue after. */
  pos: number;
  invalidate: boolean;
  /** A fragment's token: its number (from 1) in the split of the event at `pos`. */
  fragment?: number;
}

/** mongod's BSONObjMaxUserSize: a batch's documents at most (and the document limit). */
export const MAX_USER_SIZE = 16 * 1024 * 1024;
/** mongod's BSONObjMaxInternalSize: an unsplit change event above it fails with 10334. */
export const MAX_INTERNAL_SIZE = MAX_USER_SIZE + 16 * 1024;
/** $changeStreamSplitLargeEvent's kBSONObjMaxChangeEventSize: events above it are split. */
export const MAX_CHANGE_EVENT_SIZE = MAX_INTERNAL_SIZE - 8 * 1024;

/** A server error reply a cursor step ends with. */
class CommandError {
  constructor(readonly reply: Document) {}
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

export interface WireServerOptions {
  /** Cluster time (seconds) of the first oplog entry. */
  startSeconds?: number;
  maxWireVersion?: number;
  /** At most this many events per getMore (default: all that are there). */
  maxBatch?: number;
  /** false: a server before 7.0 / 6.0.9, which does not know $changeStreamSplitLargeEvent (40324). */
  splitStage?: boolean;
}

export class MongoWireServer {
  readonly commands: ReceivedCommand[] = [];
  /** Ids of the change stream cursors opened, oldest first. */
  readonly cursorIds: number[] = [];
  /** Cursor ids the client asked to kill. */
  readonly killCursorsRequests: number[] = [];
  connectionsOpened = 0;
  /** Fragments of split events returned to clients so far. */
  fragmentsReturned = 0;
  /** Called as each command arrives, before it is answered (to script something in between). */
  onCommand?: (cmd: ReceivedCommand) => void;
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;
  readonly #oplog: Entry[] = [];
  readonly #tokens = new Map<string, TokenRef>();
  readonly #cursors = new Map<number, Cursor>();
  readonly #collections = new Map<string, Map<string, Document>>();
  readonly #failures: { command: string; skip: number; failure: Failure }[] = [];
  #waiters = new Set<() => void>();
  #oldest = 1;
  #seconds: number;
  #increment = 0;
  #nextCursorId = 7_000_000_001;
  #requestId = 1;
  #port = 0;
  readonly maxWireVersion: number;
  maxBatch: number;
  readonly splitStage: boolean;

  private constructor(options: WireServerOptions) {
    this.#seconds = options.startSeconds ?? 1_795_000_000;
    this.maxWireVersion = options.maxWireVersion ?? 21;
    this.maxBatch = options.maxBatch ?? Number.POSITIVE_INFINITY;
    this.splitStage = options.splitStage ?? true;
    this.#server = createServer((socket) => this.#accept(socket));
    // The oplog never starts empty: there is always a point to report as "now".
    this.noop();
  }

  static async start(options: WireServerOptions = {}): Promise<MongoWireServer> {
    const s = new MongoWireServer(options);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(0, '127.0.0.1', () => resolve());
    });
    s.#port = (s.#server.address() as { port: number }).port;
    return s;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get uri(): string {
    return `mongodb://${this.address}/?directConnection=true`;
  }

  get openConnections(): number {
    return this.#sockets.size;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    this.#wake();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- the scripted oplog ------------------------------------------------------------------

  /** An oplog entry no change stream shows (another database's write, the primary's periodic no-op): moves the post-batch token on. */
  noop(): Token {
    return this.#append('noop').token;
  }

  insert(ns: string, doc: Document): Document {
    return this.event(ns, { operationType: 'insert', documentKey: { _id: doc._id }, fullDocument: doc }, { postImage: doc });
  }

  /** An update; `after` is what updateLookup finds, `before` the pre-image (if recorded). */
  update(ns: string, id: unknown, updatedFields: Document, after: Lookup, before: Document | null = null): Document {
    return this.event(ns, { operationType: 'update', documentKey: { _id: id }, updateDescription: { updatedFields, removedFields: [], truncatedArrays: [] } }, { postImage: after, preImage: before });
  }

  delete(ns: string, id: unknown, before: Document | null = null): Document {
    return this.event(ns, { operationType: 'delete', documentKey: { _id: id } }, { preImage: before });
  }

  /** Drops a collection: a `drop` event, then an invalidate that ends that collection's streams. Returns [drop, invalidate]. */
  drop(ns: string): [Document, Document] {
    const drop = this.event(ns, { operationType: 'drop' });
    const e = this.#append('invalidate', { sameTime: true });
    e.invalidates = ns;
    e.event = { _id: e.token, operationType: 'invalidate', clusterTime: e.ts, wallTime: e.wallTime };
    this.#wake();
    return [drop, e.event];
  }

  /** Any change event: _id, clusterTime, wallTime and ns are filled in. Returns it as a stream without options would show it. */
  event(ns: string, fields: Document, images: { postImage?: Lookup; preImage?: Document | null } = {}): Document {
    const dot = ns.indexOf('.');
    const e = this.#append('event');
    e.event = { _id: e.token, operationType: fields['operationType'], clusterTime: e.ts, wallTime: e.wallTime, ns: { db: ns.slice(0, dot), coll: ns.slice(dot + 1) }, ...fields };
    e.postImage = images.postImage;
    e.preImage = images.preImage;
    this.#wake();
    return e.event;
  }

  /** Forgets every entry before the latest `keep`: resuming from a token before them fails with 286 ChangeStreamHistoryLost. */
  truncateOplog(keep = 1): void {
    this.#oldest = Math.max(this.#oldest, this.#oplog.length - keep + 1);
  }

  /** Server restart/failover: every open cursor is gone (the next getMore gets 43 CursorNotFound). */
  forgetCursors(): void {
    for (const c of this.#cursors.values()) c.killed = true;
    this.#cursors.clear();
    this.#wake();
  }

  /** The next `command` ('aggregate' or 'getMore'), after skipping `skip` of them, fails like this. */
  fail(command: 'aggregate' | 'getMore', failure: Failure, skip = 0): void {
    this.#failures.push({ command, skip, failure });
  }

  /** The change stream aggregates received, oldest first. */
  get aggregates(): ChangeStreamAggregate[] {
    return this.commands
      .filter((c) => c.name === 'aggregate' && c.body['pipeline']?.[0]?.$changeStream)
      .map((c) => ({ db: c.db, aggregate: c.body['aggregate'], options: c.body['pipeline'][0].$changeStream, pipeline: c.body['pipeline'].slice(1) }));
  }

  count(name: string): number {
    return this.commands.filter((c) => c.name === name).length;
  }

  /** Appends an oplog entry. Its token is written as servers do: hex KeyString opening with 0x82 and the timestamp. */
  #append(kind: Entry['kind'], o: { sameTime?: boolean } = {}): Entry {
    if (!o.sameTime) this.#increment++;
    const index = this.#oplog.length + 1;
    const ts = new Timestamp({ t: this.#seconds, i: this.#increment });
    const stamp = `82${hex(this.#seconds, 8)}${hex(this.#increment, 8)}`;
    const token = { _data: `${stamp}2B${kind === 'event' ? '042C0100296E5A1004' : kind === 'invalidate' ? '042C0100296F5A1004' : '0229296E04'}${hex(index, 16)}04` };
    const e: Entry = { index, ts, wallTime: new Date(this.#seconds * 1000 + this.#increment), token, kind };
    this.#oplog.push(e);
    this.#tokens.set(token._data, kind === 'invalidate' ? { pos: index, invalidate: true } : { pos: index, invalidate: false });
    return e;
  }

  /** Moves cluster time on by whole seconds. */
  tick(seconds = 1): void {
    this.#seconds += seconds;
    this.#increment = 0;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const w of waiters) w();
  }

  #waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => (clearTimeout(timer), this.#waiters.delete(done), resolve());
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  get #clusterTime(): Timestamp {
    return this.#oplog[this.#oplog.length - 1].ts;
  }

  // ---- change stream cursors ----------------------------------------------------------------

  #visible(e: Entry, c: Cursor): boolean {
    if (e.kind === 'noop') return false;
    if (e.kind === 'invalidate') return c.scope.coll !== undefined && e.invalidates === `${c.scope.db}.${c.scope.coll}`;
    const ns = e.event!['ns'] as { db: string; coll: string };
    if (c.scope.db !== undefined && ns.db !== c.scope.db) return false;
    if (c.scope.coll !== undefined && ns.coll !== c.scope.coll) return false;
    return c.matches.every((m) => matches(e.event!, m));
  }

  #render(e: Entry, c: Cursor): Document {
    const doc: Document = { ...e.event };
    const op = doc['operationType'];
    if (op === 'update' && ['updateLookup', 'whenAvailable', 'required'].includes(c.options['fullDocument'])) {
      doc['fullDocument'] = (typeof e.postImage === 'function' ? e.postImage() : e.postImage) ?? null;
    }
    if (['update', 'replace', 'delete'].includes(op) && ['whenAvailable', 'required'].includes(c.options['fullDocumentBeforeChange'])) {
      doc['fullDocumentBeforeChange'] = e.preImage ?? null;
    }
    for (const path of c.exclusions) unset(doc, path);
    return doc;
  }

  /**
   * The events after the cursor's position (first any fragments still queued); moves it on.
   * `closed` after an invalidate. Throws CommandError when an event is too large (10334) or cannot
   * be split (7182500).
   */
  #collect(c: Cursor, limit: number): { batch: Document[]; closed: boolean } {
    const batch: Document[] = [];
    let bytes = 0;
    let closed = false;
    let full = false;
    let pos = c.pos;
    const take = (doc: Document, size: number): boolean => {
      if (batch.length >= limit || (batch.length > 0 && bytes + size > MAX_USER_SIZE)) return (full = true), false;
      batch.push(doc);
      bytes += size;
      return true;
    };
    for (;;) {
      if (c.queue.length > 0) {
        if (!take(c.queue[0], calculateObjectSize(c.queue[0]))) break;
        c.queue.shift();
        this.fragmentsReturned++;
        continue;
      }
      if (pos >= this.#oplog.length || closed) break;
      if (batch.length >= limit) {
        full = true; // a full batch: the next event is not even read
        break;
      }
      const e = this.#oplog[pos];
      if (!this.#visible(e, c)) {
        pos = e.index;
        continue;
      }
      const doc = this.#render(e, c);
      const size = calculateObjectSize(doc);
      if (c.split && size > MAX_CHANGE_EVENT_SIZE) {
        c.queue = this.#split(e, doc);
        pos = e.index;
        continue;
      }
      if (size > MAX_INTERNAL_SIZE) {
        throw new CommandError(error(10334, 'BSONObjectTooLarge', `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and 16793600(16MB) First element: _id: ${EJSON.stringify(doc['_id'])}`));
      }
      if (!take(doc, size)) break;
      pos = e.index;
      if (e.kind === 'invalidate') closed = true;
    }
    if (batch.length > 0 || pos !== c.pos) {
      // After an invalidate, inside a split event, or a full batch with more to come, the batch
      // ends at its last document; a batch that reached the end of the oplog ends at the oplog's
      // high-water mark.
      const more = c.queue.length > 0 || (full && pos < this.#oplog.length);
      c.pbrt = closed || more ? (batch[batch.length - 1]['_id'] as Token) : this.#hw(pos);
      c.pos = pos;
    }
    return { batch, closed };
  }

  /** A fragment's token: the event's, with the fragment number before the end. */
  #fragmentToken(e: Entry, n: number): Token {
    const token = { _data: `${e.token._data.slice(0, -2)}2C${hex(n, 4)}04` };
    this.#tokens.set(token._data, { pos: e.index, invalidate: false, fragment: n });
    return token;
  }

  /**
   * $changeStreamSplitLargeEvent's split (change_stream_split_event_helpers.cpp): the fields but
   * `_id`, ordered by their size, then name; each fragment gets its token and splitEvent, then as
   * many fields as fit (at least one); a fragment still too large fails with 7182500.
   */
  #split(e: Entry, event: Document): Document[] {
    const max = MAX_CHANGE_EVENT_SIZE - calculateObjectSize(event['_id'] as Document);
    const fields = Object.entries(event)
      .filter(([k]) => k !== '_id')
      .map(([k, v]) => ({ k, v, size: calculateObjectSize({ [k]: v }) - 5 }))
      .sort((a, b) => a.size - b.size || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    const fragments: Document[] = [];
    for (let i = 0; i < fields.length; ) {
      const fragment: Document = { _id: this.#fragmentToken(e, fragments.length + 1), splitEvent: { fragment: fragments.length + 1, of: 0 } };
      let size = calculateObjectSize(fragment);
      do {
        fragment[fields[i].k] = fields[i].v;
        size += fields[i].size;
      } while (++i < fields.length && size + fields[i].size <= max);
      if (size > max) throw new CommandError(error(7182500, 'Location7182500', `Splitting change event failed: fragment size ${size} is greater than maximum allowed fragment size ${max}`));
      fragments.push(fragment);
    }
    for (const f of fragments) (f['splitEvent'] as Document)['of'] = fragments.length;
    return fragments;
  }

  /** A high-water-mark token at position `pos` (not an event's own token). */
  #hw(pos: number): Token {
    const e = this.#oplog[pos - 1];
    const token = { _data: `82${hex(e.ts.t, 8)}${hex(e.ts.i, 8)}2B0229296E04${hex(pos, 16)}FF` };
    this.#tokens.set(token._data, { pos, invalidate: false });
    return token;
  }

  #start(db: string, body: Document): Document {
    const stage = body['pipeline'][0].$changeStream as Document;
    const stages = (body['pipeline'] as Document[]).slice(1);
    const splitAt = stages.findIndex((st) => '$changeStreamSplitLargeEvent' in st);
    if (splitAt >= 0 && !this.splitStage) return error(40324, 'Location40324', "Unrecognized pipeline stage name: '$changeStreamSplitLargeEvent'");
    if (splitAt >= 0 && splitAt !== stages.length - 1) return error(7182802, 'Location7182802', '$changeStreamSplitLargeEvent must be the last stage in the pipeline');
    const given = ['resumeAfter', 'startAfter', 'startAtOperationTime'].filter((k) => stage[k] !== undefined);
    if (given.length > 1) return error(50573, 'BadValue', 'Only one type of resume option is allowed, but multiple were found.');
    let pos = this.#oplog.length;
    let pbrt: Token | undefined;
    let fragmentOf: TokenRef | undefined;
    const token = (stage['resumeAfter'] ?? stage['startAfter']) as Token | undefined;
    if (token) {
      const ref = typeof token._data === 'string' ? this.#tokens.get(token._data) : undefined;
      if (!ref) return error(280, 'ChangeStreamFatalError', 'cannot resume stream; the resume token was not found.');
      if (ref.pos < this.#oldest) return error(286, 'ChangeStreamHistoryLost', 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
      if (ref.invalidate && stage['resumeAfter']) {
        return error(260, 'InvalidResumeToken', "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.");
      }
      pos = ref.pos;
      pbrt = token;
      if (ref.fragment !== undefined) fragmentOf = ref;
    } else if (stage['startAtOperationTime']) {
      const at = stage['startAtOperationTime'] as Timestamp;
      if (before(at, this.#oplog[this.#oldest - 1].ts)) return error(286, 'ChangeStreamHistoryLost', 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
      const first = this.#oplog.find((e) => !before(e.ts, at));
      pos = first ? first.index - 1 : this.#oplog.length;
    }
    const all = !!stage['allChangesForCluster'];
    if (all && (db !== 'admin' || body['aggregate'] !== 1)) return error(73, 'InvalidNamespace', '$changeStream may only be run on admin when allChangesForCluster is true');
    const coll = typeof body['aggregate'] === 'string' ? (body['aggregate'] as string) : undefined;
    const id = this.#nextCursorId++;
    const c: Cursor = {
      id,
      ns: coll ? `${db}.${coll}` : `${db}.$cmd.aggregate`,
      scope: all ? {} : { db, coll },
      pos,
      pbrt: pbrt ?? this.#hw(pos),
      options: stage,
      matches: stages.flatMap((s) => (s['$match'] ? [s['$match'] as Document] : [])),
      exclusions: stages.flatMap((st) => (st['$project'] ? Object.entries(st['$project'] as Document).flatMap(([path, v]) => (v === 0 || v === false ? [path] : [])) : [])),
      split: splitAt >= 0,
      queue: [],
      killed: false,
    };
    if (fragmentOf) {
      // Resuming from a fragment: split the event again (as it reads now) and go on after it.
      const fail = (why: string) => error(280, 'ChangeStreamFatalError', why);
      if (!c.split) return fail('cannot resume stream; the resume token was not found.');
      const e = this.#oplog[fragmentOf.pos - 1];
      const doc = this.#render(e, c);
      if (calculateObjectSize(doc) <= MAX_CHANGE_EVENT_SIZE) return fail('Attempted to resume from a split event fragment, but the event in the resumed stream was not large enough to be split');
      let fragments: Document[];
      try {
        fragments = this.#split(e, doc);
      } catch (err) {
        if (err instanceof CommandError) return err.reply;
        throw err;
      }
      if (fragments.length < fragmentOf.fragment!) return fail('Attempted to resume from a split event, but the resumed stream produced a different split. Ensure that the pipeline used to resume is the same as the original');
      c.queue = fragments.slice(fragmentOf.fragment!);
    }
    this.#cursors.set(id, c);
    this.cursorIds.push(id);
    let collected;
    try {
      collected = this.#collect(c, body['cursor']?.batchSize ?? 101);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      this.#cursors.delete(id);
      return err.reply;
    }
    const { batch, closed } = collected;
    if (closed) this.#cursors.delete(id);
    return { cursor: { firstBatch: batch, postBatchResumeToken: c.pbrt, id: Long.fromNumber(closed ? 0 : id), ns: c.ns }, ok: 1 };
  }

  async #getMore(body: Document): Promise<Document> {
    const id = Number(body['getMore']);
    const c = this.#cursors.get(id);
    if (!c || c.killed) return error(43, 'CursorNotFound', `cursor id ${id} not found`);
    const limit = Math.min(this.maxBatch, body['batchSize'] ?? Number.POSITIVE_INFINITY);
    const collect = () => this.#collect(c, limit);
    let result;
    try {
      result = collect();
      if (result.batch.length === 0) {
        // awaitData: wait for new entries, up to the getMore's maxTimeMS.
        const until = Date.now() + (body['maxTimeMS'] ?? 1000);
        while (result.batch.length === 0 && Date.now() < until && !c.killed && this.#server.listening) {
          await this.#waitForChange(until - Date.now());
          if (c.killed) return error(237, 'CursorKilled', `operation was interrupted because cursor id ${id} was killed`);
          result = collect();
        }
      }
    } catch (err) {
      // A failed getMore kills its cursor, as mongod does.
      if (!(err instanceof CommandError)) throw err;
      this.#cursors.delete(id);
      return err.reply;
    }
    if (result.closed) this.#cursors.delete(id);
    return { cursor: { nextBatch: result.batch, postBatchResumeToken: c.pbrt, id: Long.fromNumber(result.closed ? 0 : id), ns: c.ns }, ok: 1 };
  }

  // ---- the wire -----------------------------------------------------------------------------

  #accept(socket: Socket): void {
    this.connectionsOpened++;
    const connectionId = this.connectionsOpened;
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let chain = Promise.resolve();
    socket.on('data', (data) => {
      buffer = Buffer.concat([buffer, data]);
      while (buffer.length >= 4 && buffer.length >= buffer.readInt32LE(0)) {
        const message = buffer.subarray(0, buffer.readInt32LE(0));
        buffer = buffer.subarray(message.length);
        chain = chain.then(() => this.#handle(socket, message, connectionId)).catch(() => void socket.destroy());
      }
    });
  }

  async #handle(socket: Socket, message: Buffer, connectionId: number): Promise<void> {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_QUERY) {
      // Legacy handshake: flags, "admin.$cmd", skip, limit, query.
      const nsEnd = message.indexOf(0, 20);
      let query = decode(message.subarray(nsEnd + 9));
      if (query['$query']) query = query['$query'];
      const db = message.toString('utf8', 20, nsEnd).split('.')[0];
      const reply = await this.#command(socket, { name: Object.keys(query)[0], db, body: query }, connectionId);
      if (reply) this.#send(socket, requestId, OP_REPLY, reply);
      return;
    }
    if (opCode !== OP_MSG) throw new Error(`unsupported opCode ${opCode}`);
    const flags = message.readUInt32LE(16);
    const end = message.length - (flags & 1 ? 4 : 0);
    let body: Document = {};
    for (let i = 20; i < end; ) {
      const kind = message[i++];
      const size = message.readInt32LE(i);
      if (kind === 0) {
        body = { ...decode(message.subarray(i, i + size)), ...body };
      } else {
        const idEnd = message.indexOf(0, i + 4);
        const identifier = message.toString('utf8', i + 4, idEnd);
        const docs: Document[] = [];
        for (let j = idEnd + 1; j < i + size; j += message.readInt32LE(j)) docs.push(deserialize(message.subarray(j, j + message.readInt32LE(j)), { promoteValues: false }));
        body[identifier] = docs;
      }
      i += size;
    }
    const reply = await this.#command(socket, { name: Object.keys(body)[0], db: body['$db'] ?? 'admin', body }, connectionId);
    if (reply) this.#send(socket, requestId, OP_MSG, reply);
  }

  async #command(socket: Socket, cmd: ReceivedCommand, connectionId: number): Promise<Document | undefined> {
    this.commands.push(cmd);
    this.onCommand?.(cmd);
    const isChangeStream = cmd.name === 'aggregate' && cmd.body['pipeline']?.[0]?.$changeStream;
    if (cmd.name === 'getMore' || isChangeStream) {
      const i = this.#failures.findIndex((f) => f.command === cmd.name);
      if (i >= 0 && this.#failures[i].skip > 0) this.#failures[i].skip--;
      else if (i >= 0) {
        const { failure } = this.#failures.splice(i, 1)[0];
        if ('closeConnection' in failure) {
          socket.destroy();
          return undefined;
        }
        // CursorNotFound: the server really lost the cursor.
        if (failure.code === 43 && cmd.name === 'getMore') this.#cursors.delete(Number(cmd.body['getMore']));
        return this.#stamp({ ok: 0, errmsg: failure.errmsg ?? `injected ${failure.codeName ?? failure.code}`, code: failure.code, codeName: failure.codeName, ...(failure.errorLabels ? { errorLabels: failure.errorLabels } : {}) });
      }
    }
    switch (cmd.name) {
      case 'hello':
      case 'isMaster':
      case 'ismaster':
        return this.#stamp(this.#hello(connectionId));
      case 'ping':
      case 'endSessions':
        return this.#stamp({ ok: 1 });
      case 'buildInfo':
      case 'buildinfo':
        return this.#stamp({ version: '7.0.0', versionArray: [7, 0, 0, 0], maxBsonObjectSize: 16 * 1024 * 1024, ok: 1 });
      case 'create':
      case 'insert':
      case 'update':
      case 'delete':
      case 'drop':
        return this.#stamp(this.#write(cmd));
      case 'aggregate':
        return this.#stamp(isChangeStream ? this.#start(cmd.db, cmd.body) : error(59, 'CommandNotFound', 'only $changeStream aggregates are scripted'));
      case 'getMore':
        return this.#stamp(await this.#getMore(cmd.body));
      case 'killCursors': {
        const ids = (cmd.body['cursors'] as unknown[]).map(Number);
        this.killCursorsRequests.push(...ids);
        const killed = ids.filter((id) => this.#cursors.has(id));
        for (const id of killed) {
          this.#cursors.get(id)!.killed = true;
          this.#cursors.delete(id);
        }
        this.#wake();
        const list = (xs: number[]) => xs.map((x) => Long.fromNumber(x));
        return this.#stamp({ cursorsKilled: list(killed), cursorsNotFound: list(ids.filter((id) => !killed.includes(id))), cursorsAlive: [], cursorsUnknown: [], ok: 1 });
      }
      default:
        return this.#stamp(error(59, 'CommandNotFound', `no such command: '${cmd.name}'`));
    }
  }

  /**
   * Just enough CRUD for a driver-side script to make its own events: create, insert, update and
   * delete by `_id` (updates with `$set` or a replacement), drop. Each write appends its change
   * event to the oplog, as a primary does.
   */
  #write(cmd: ReceivedCommand): Document {
    const ns = `${cmd.db}.${cmd.body[cmd.name]}`;
    const docs = this.#collections.get(ns);
    const key = (id: unknown) => EJSON.stringify({ id }, { relaxed: false });
    switch (cmd.name) {
      case 'create':
        if (docs) return error(48, 'NamespaceExists', `Collection ${ns} already exists.`);
        this.#collections.set(ns, new Map());
        return { ok: 1 };
      case 'drop':
        if (!docs) return error(26, 'NamespaceNotFound', 'ns not found');
        this.#collections.delete(ns);
        this.drop(ns);
        return { ns, nIndexesWas: 1, ok: 1 };
      case 'insert': {
        const coll = docs ?? new Map<string, Document>();
        this.#collections.set(ns, coll);
        for (const d of cmd.body['documents'] as Document[]) {
          coll.set(key(d['_id']), d);
          this.insert(ns, d);
        }
        return { n: (cmd.body['documents'] as Document[]).length, ok: 1 };
      }
      case 'update': {
        let n = 0;
        for (const u of cmd.body['updates'] as Document[]) {
          const id = (u['q'] as Document)['_id'];
          const before = docs?.get(key(id));
          if (!docs || !before) continue;
          n++;
          const change = u['u'] as Document;
          if (change['$set']) {
            const after = { ...before, ...(change['$set'] as Document) };
            docs.set(key(id), after);
            this.update(ns, id, change['$set'] as Document, after, before);
          } else {
            const after = { _id: id, ...change };
            docs.set(key(id), after);
            this.event(ns, { operationType: 'replace', documentKey: { _id: id }, fullDocument: after }, { postImage: after, preImage: before });
          }
        }
        return { n, nModified: n, ok: 1 };
      }
      default: {
        let n = 0;
        for (const d of cmd.body['deletes'] as Document[]) {
          const id = (d['q'] as Document)['_id'];
          const before = docs?.get(key(id));
          if (!docs || !before) continue;
          n++;
          docs.delete(key(id));
          this.delete(ns, id, before);
        }
        return { n, ok: 1 };
      }
    }
  }

  #hello(connectionId: number): Document {
    const ts = this.#clusterTime;
    const at = new Date(ts.t * 1000);
    return {
      helloOk: true,
      ismaster: true,
      isWritablePrimary: true,
      secondary: false,
      setName: 'rs0',
      setVersion: 1,
      electionId: new ObjectId('7fffffff0000000000000001'),
      primary: this.address,
      me: this.address,
      hosts: [this.address],
      lastWrite: { opTime: { ts, t: Long.fromNumber(1) }, lastWriteDate: at, majorityOpTime: { ts, t: Long.fromNumber(1) }, majorityWriteDate: at },
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId,
      minWireVersion: 0,
      maxWireVersion: this.maxWireVersion,
      readOnly: false,
      ok: 1,
    };
  }

  /** Replica set members gossip cluster time on every reply. */
  #stamp(reply: Document): Document {
    const ts = this.#clusterTime;
    return { ...reply, $clusterTime: { clusterTime: ts, signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.ZERO } }, operationTime: ts };
  }

  #send(socket: Socket, responseTo: number, opCode: number, reply: Document): void {
    if (socket.destroyed) return;
    const doc = serialize(reply);
    const head = Buffer.alloc(16);
    const body =
      opCode === OP_REPLY
        ? Buffer.concat([Buffer.alloc(20), doc]) // flags 0, cursorId 0, startingFrom 0, numberReturned (set below)
        : Buffer.concat([Buffer.alloc(5), doc]); // flagBits 0, section kind 0
    if (opCode === OP_REPLY) body.writeInt32LE(1, 16);
    head.writeInt32LE(16 + body.length, 0);
    head.writeInt32LE(this.#requestId++, 4);
    head.writeInt32LE(responseTo, 8);
    head.writeInt32LE(opCode, 12);
    socket.write(Buffer.concat([head, body]));
  }
}

/**
 * A command as the server sees it: written documents keep their exact BSON types (a stored Long
 * or double must come back as one in change events); the command's own fields are plain numbers.
 */
function decode(buffer: Buffer): Document {
  const body = deserialize(buffer, { useBigInt64: true });
  const exact = deserialize(buffer, { promoteValues: false });
  for (const field of ['documents', 'updates', 'deletes']) if (field in exact) body[field] = exact[field];
  return body;
}

function error(code: number, codeName: string, errmsg: string): Document {
  return { ok: 0, errmsg, code, codeName };
}

const before = (a: Timestamp, b: Timestamp) => a.t < b.t || (a.t === b.t && a.i < b.i);

/** Removes a dotted path, copying the documents on the way (events share them with the oplog). */
function unset(doc: Document, path: string): void {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) {
    delete doc[head];
    return;
  }
  const inner = doc[head];
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return;
  doc[head] = { ...(inner as Document) };
  unset(doc[head] as Document, rest.join('.'));
}

function get(doc: Document, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Document)[k] : undefined), doc);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A small `$match`: equality, $eq, $in, $nin on dotted paths. Anything else matches. */
function matches(doc: Document, match: Document): boolean {
  return Object.entries(match).every(([path, cond]) => {
    if (path.startsWith('$')) return true;
    const v = get(doc, path);
    if (cond && typeof cond === 'object' && !Array.isArray(cond) && Object.keys(cond).some((k) => k.startsWith('$'))) {
      const c = cond as Document;
      if ('$eq' in c && !same(v, c['$eq'])) return false;
      if ('$in' in c && !(c['$in'] as unknown[]).some((x) => same(v, x))) return false;
      if ('$nin' in c && (c['$nin'] as unknown[]).some((x) => same(v, x))) return false;
      return true;
    }
    return same(v, cond);
  });
}
