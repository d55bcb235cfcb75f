import { Binary, BSONRegExp, Decimal128, Double, EJSON, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { MongoServerError } from 'mongodb';
import { ConfigError, Secret } from '@runnel/config';
import { eventually, MongoStandIn } from '@runnel/testing';
import { toEnvelope } from '../src/change-envelope-mapper';
import { HistoryLostError, MAX_BSON_OBJECT_SIZE, OversizeEventError, type ResumePoint, type SourceItem } from '../src/sources/change-source';
import { createMongoSource, MongoChangeSource, type MongoSourceOptions, tokenClusterTime } from '../src/sources/mongodb-source';
import { MongoWireServer } from './mongo-wire-server';
import { sourceScenarios } from './mongodb-source-scenarios';

/**
 * MongoChangeSource against the REAL mongodb driver, talking to a scripted wire-protocol server:
 * the driver's own token caching, resume and close logic runs on scripted oplogs and failures.
 */

const TIMEOUT = Symbol('timeout');

/** `promise`, or TIMEOUT after `ms` (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const until = (check: () => boolean, ms = 5000) => eventually('the condition', check, ms, 10);

/** One read() of a source, item by item, with timeouts. */
class Items {
  readonly ac = new AbortController();
  readonly #it: AsyncIterator<SourceItem>;
  #pending?: Promise<IteratorResult<SourceItem>>;

  constructor(source: MongoChangeSource, from?: ResumePoint) {
    this.#it = source.read(from, this.ac.signal)[Symbol.asyncIterator]();
  }

  /** The next item; undefined when the iterator ended. */
  async next(ms = 5000): Promise<SourceItem | undefined> {
    this.#pending ??= this.#it.next();
    const r = await within(this.#pending, ms);
    if (r === TIMEOUT) throw new Error(`no item within ${ms} ms`);
    this.#pending = undefined;
    return (r as IteratorResult<SourceItem>).done ? undefined : (r as IteratorResult<SourceItem>).value;
  }

  /** Whatever arrives within `ms` (the read stays pending otherwise). */
  async within(ms: number): Promise<SourceItem[]> {
    const out: SourceItem[] = [];
    const end = Date.now() + ms;
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) return out;
      this.#pending ??= this.#it.next();
      const r = await within(this.#pending, left);
      if (r === TIMEOUT) return out;
      this.#pending = undefined;
      if ((r as IteratorResult<SourceItem>).done) return out;
      out.push((r as IteratorResult<SourceItem>).value);
    }
  }

  /** The next `n` changes, skipping idle items. */
  async changes(n: number): Promise<Extract<SourceItem, { type: 'change' }>[]> {
    const out: Extract<SourceItem, { type: 'change' }>[] = [];
    while (out.length < n) {
      const item = await this.next();
      if (!item) throw new Error(`iterator ended after ${out.length} changes`);
      if (item.type === 'change') out.push(item);
      else if (item.type === 'invalidate') throw new Error('unexpected invalidate');
    }
    return out;
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.#pending?.catch(() => undefined);
    await this.#it.return?.();
  }
}

let server: MongoWireServer;
const open: Items[] = [];

function source(o: Partial<MongoSourceOptions> = {}): MongoChangeSource {
  return new MongoChangeSource({
    uri: new Secret(server.uri),
    database: 'shop',
    collections: ['orders'],
    fullDocument: 'updateLookup',
    fullDocumentBeforeChange: 'off',
    pipeline: [],
    maxAwaitTimeMS: 50,
    idleRepeatMs: 60_000,
    clientOptions: { serverSelectionTimeoutMS: 3000 },
    ...o,
  });
}

function read(s: MongoChangeSource, from?: ResumePoint): Items {
  const items = new Items(s, from);
  open.push(items);
  return items;
}

const ejson = (v: unknown) => EJSON.stringify(v, { relaxed: false });
/** Asserts that `value` is the same BSON value as `expected`, type included, recursively. */
const sameBsonValue = (value: unknown, expected: unknown) => expect(ejson({ v: value })).toBe(ejson({ v: expected }));
const order = (n: number) => ({ _id: new ObjectId(), n, total: Long.fromNumber(100 * n), at: new Date(Date.UTC(2026, 0, n)) });

beforeEach(async () => {
  server = await MongoWireServer.start();
});

afterEach(async () => {
  for (const items of open.splice(0)) await items.stop();
  await server.close();
});

describe('MongoChangeSource (real driver, scripted wire server)', () => {
  it('a fresh start yields the initial token first, then the events in order, each with the token after it', async () => {
    server.insert('shop.orders', order(0)); // before the start: never seen
    const items = read(source());
    const first = await items.next();
    expect(first).toMatchObject({ type: 'idle' });
    const initial = first!.token as { _data: string };
    expect(initial._data).toMatch(/^82[0-9A-F]{16}/);
    expect(server.aggregates).toHaveLength(1);
    expect(server.aggregates[0].options).not.toHaveProperty('resumeAfter');
    expect(server.aggregates[0].options).not.toHaveProperty('startAfter');

    const events = [1, 2, 3].map((n) => server.insert('shop.orders', order(n)));
    const changes = await items.changes(3);
    expect(changes.map((c) => c.change._id)).toEqual(events.map((e) => e['_id']));
    expect(changes.map((c) => Number(c.change.fullDocument?.['n']))).toEqual([1, 2, 3]);
    // Within a batch the token after an event is its _id; after the batch's last event the
    // driver reports the batch's post-batch resume token instead.
    expect(changes[0].token).toEqual(events[0]['_id']);
    expect(changes[1].token).toEqual(events[1]['_id']);
    expect(changes[2].token).not.toEqual(events[2]['_id']);
    expect(tokenClusterTime(changes[2].token)).toBe(tokenClusterTime(events[2]['_id']));

    // Resuming from that post-batch token loses nothing and repeats nothing.
    const again = read(source(), { token: changes[2].token });
    const e4 = server.insert('shop.orders', order(4));
    const [next] = await again.changes(1);
    expect(next.change._id).toEqual(e4['_id']);
    expect(server.aggregates[1].options['resumeAfter']).toEqual(changes[2].token);
  });

  it('a fresh start whose first getMore already returns an event still yields the token before it first', async () => {
    // The first tryNext sends the aggregate (empty first batch + token) and at once a getMore;
    // an insert lands in between, so that tryNext returns the event itself.
    let e1: Record<string, unknown> | undefined;
    server.onCommand = (cmd) => {
      if (cmd.name === 'getMore' && !e1) e1 = server.insert('shop.orders', order(1));
    };
    const items = read(source());
    const [first, second] = [await items.next(), await items.next()];
    expect(first?.type).toBe('idle');
    expect(second).toMatchObject({ type: 'change', change: { _id: e1!['_id'] } });
    expect(first!.token).not.toEqual(e1!['_id']);
    expect(server.count('getMore')).toBe(1);
    // It really is a position before E1: resuming from it yields E1.
    const again = read(source(), { token: first!.token });
    const [c] = await again.changes(1);
    expect(c.change._id).toEqual(e1!['_id']);
  });

  it('idle getMores produce idle items with the post-batch token, once per new token, and again after idleRepeatMs', async () => {
    const items = read(source());
    const initial = await items.next();
    expect(initial?.type).toBe('idle');
    expect(await items.within(300)).toEqual([]); // ~6 empty getMores with an unchanged token: quiet

    server.tick(5);
    server.noop(); // e.g. a write elsewhere, or the primary's periodic no-op
    const idle = await items.next();
    expect(idle).toMatchObject({ type: 'idle', clusterTime: '1795000005.1' });
    expect(idle!.token).not.toEqual(initial!.token);
    expect(server.commands.filter((c) => c.name === 'getMore').every((c) => c.body['maxTimeMS'] === 50)).toBe(true);

    const repeating = read(source({ idleRepeatMs: 150 }));
    const a = await repeating.next();
    const b = await repeating.next(2000);
    expect(b).toEqual(a);
  });

  it('resumes with resumeAfter; ends on an invalidate with its token; continues with startAfter', async () => {
    const [e1, e2, e3] = [1, 2, 3].map((n) => server.insert('shop.orders', order(n)));
    const items = read(source(), { token: e1['_id'] });
    const changes = await items.changes(2);
    expect(changes.map((c) => c.change._id)).toEqual([e2['_id'], e3['_id']]);
    expect(server.aggregates[0].options['resumeAfter']).toEqual(e1['_id']);
    expect(server.aggregates[0].options).not.toHaveProperty('startAfter');

    const [drop, invalidate] = server.drop('shop.orders');
    const [dropped] = await items.changes(1);
    expect(dropped.change).toMatchObject({ operationType: 'drop', ns: { db: 'shop', coll: 'orders' } });
    expect(dropped.change._id).toEqual(drop['_id']);
    expect(await items.next()).toEqual({ type: 'invalidate', token: invalidate['_id'] });
    expect(await items.next()).toBeUndefined();
    await until(() => server.openConnections === 0);

    const after = read(source(), { token: invalidate['_id'], startAfter: true });
    const e5 = server.insert('shop.orders', order(5));
    const [next] = await after.changes(1);
    expect(next.change._id).toEqual(e5['_id']);
    const agg = server.aggregates.at(-1)!;
    expect(agg.options['startAfter']).toEqual(invalidate['_id']);
    expect(agg.options).not.toHaveProperty('resumeAfter');

    // resumeAfter an invalidate is refused by the server: an ordinary error, not history lost.
    const wrong = read(source(), { token: invalidate['_id'] });
    await expect(wrong.next()).rejects.toMatchObject({ code: 260, codeName: 'InvalidResumeToken' });
  });

  const resumable: [string, (s: MongoWireServer) => void][] = [
    ['43 CursorNotFound', (s) => s.fail('getMore', { code: 43, codeName: 'CursorNotFound' })],
    ['a ResumableChangeStreamError label', (s) => s.fail('getMore', { code: 91, codeName: 'ShutdownInProgress', errorLabels: ['ResumableChangeStreamError'] })],
    ['a dropped connection', (s) => s.fail('getMore', { closeConnection: true })],
    ['a cursor the server forgot (restart): a real 43', (s) => s.forgetCursors()],
  ];
  it.each(resumable)('a getMore failing with %s is resumed by the driver from the last token: nothing lost, nothing repeated', async (_name, breakIt) => {
    const items = read(source());
    await items.next(); // initial token
    const [e1, e2] = [1, 2].map((n) => server.insert('shop.orders', order(n)));
    const first = await items.changes(2);
    // The reader is between events now (no getMore in flight): the next one fails.
    breakIt(server);
    const [e3, e4] = [3, 4].map((n) => server.insert('shop.orders', order(n)));
    const rest = await items.changes(2);
    expect([...first, ...rest].map((c) => c.change._id)).toEqual([e1, e2, e3, e4].map((e) => e['_id']));
    expect(server.aggregates).toHaveLength(2);
    expect(server.aggregates[1].options['resumeAfter']).toEqual(first[1].token);
    expect(await items.within(200)).toEqual([]);
  });

  it('a non-resumable getMore error propagates (the reader retries after a pause) and closes the client', async () => {
    const items = read(source());
    await items.next();
    server.fail('getMore', { code: 2, codeName: 'BadValue', errmsg: 'scripted failure' });
    await expect(items.next()).rejects.toMatchObject({ code: 2, errmsg: 'scripted failure' });
    await until(() => server.openConnections === 0);
  });

  it('code 286 on the aggregate (a token older than the oplog) is HistoryLostError', async () => {
    const [e1] = [1, 2, 3].map((n) => server.insert('shop.orders', order(n)));
    server.truncateOplog(1);
    const items = read(source(), { token: e1['_id'] });
    const err = await items.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryLostError);
    expect((err as HistoryLostError).message).toContain('shop.orders');
    expect((err as Error).cause).toBeInstanceOf(MongoServerError);
    expect(((err as Error).cause as MongoServerError).code).toBe(286);
    await until(() => server.openConnections === 0);
  });

  it('code 286 on the driver\'s own re-aggregate after a resumable error is HistoryLostError too', async () => {
    const items = read(source());
    await items.next();
    server.fail('getMore', { code: 43, codeName: 'CursorNotFound' });
    server.noop();
    server.noop();
    server.truncateOplog(1); // the stream's last token has left the oplog while it was away
    await expect(items.next()).rejects.toBeInstanceOf(HistoryLostError);
    expect(server.aggregates).toHaveLength(2);
  });

  it('code 280 (ChangeStreamFatalError: the resume token cannot be found) is HistoryLostError: retrying it cannot help', async () => {
    const [e1] = [1, 2].map((n) => server.insert('shop.orders', order(n)));
    server.fail('aggregate', { code: 280, codeName: 'ChangeStreamFatalError', errmsg: 'resume of change stream was not possible, as the resume token was not found' });
    const err = await read(source(), { token: e1['_id'] }).next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryLostError);
    await until(() => server.openConnections === 0);
  });

  it('other aggregate errors propagate unchanged', async () => {
    server.fail('aggregate', { code: 13, codeName: 'Unauthorized', errmsg: 'not authorized on shop to execute command' });
    const items = read(source());
    await expect(items.next()).rejects.toMatchObject({ code: 13, codeName: 'Unauthorized' });
  });

  describe('scope', () => {
    it('one collection: coll.watch, stream db.coll, options and the user pipeline', async () => {
      const s = source({ fullDocument: 'default', fullDocumentBeforeChange: 'whenAvailable', pipeline: [{ $match: { operationType: { $in: ['insert', 'delete'] } } }] });
      expect(s.stream).toBe('shop.orders');
      expect(s.describe()).toBe('collection shop.orders');
      const items = read(s);
      await items.next();
      const doc = order(1);
      server.insert('shop.orders', doc);
      server.update('shop.orders', doc._id, { n: 2 }, { ...doc, n: 2 }, doc); // filtered out by the user's $match
      server.insert('shop.users', { _id: 1 }); // another collection
      const del = server.delete('shop.orders', doc._id, { ...doc, n: 2 });
      const changes = await items.changes(2);
      expect(changes.map((c) => c.change.operationType)).toEqual(['insert', 'delete']);
      expect(changes[1].change._id).toEqual(del['_id']);
      expect(ejson(changes[1].change.fullDocumentBeforeChange)).toBe(ejson({ ...doc, n: 2 }));

      const agg = server.aggregates[0];
      expect(agg.db).toBe('shop');
      expect(agg.aggregate).toBe('orders');
      expect(agg.options).toEqual({ fullDocumentBeforeChange: 'whenAvailable' }); // fullDocument 'default' is omitted
      // The user's stages, then the split stage (OVERSIZE_EVENTS=split by default), which must be last.
      expect(agg.pipeline).toEqual([{ $match: { operationType: { $in: ['insert', 'delete'] } } }, { $changeStreamSplitLargeEvent: {} }]);
    });

    it('several collections: db.watch with a $match on ns.coll, stream named for the set', async () => {
      const s = source({ collections: ['users', 'orders'] });
      // Not plain 'shop': a reader of other shop collections must not share its checkpoint and lease.
      expect(s.stream).toBe('shop.{orders,users}');
      expect(source({ collections: ['carts', 'payments'] }).stream).toBe('shop.{carts,payments}');
      const items = read(s);
      await items.next();
      server.insert('shop.carts', { _id: 1 });
      server.insert('shop.orders', { _id: 2 });
      server.insert('other.users', { _id: 3 });
      server.insert('shop.users', { _id: 4 });
      const changes = await items.changes(2);
      expect(changes.map((c) => `${c.change.ns?.db}.${c.change.ns?.coll}`)).toEqual(['shop.orders', 'shop.users']);
      const agg = server.aggregates[0];
      expect(agg).toMatchObject({ db: 'shop', aggregate: 1 });
      expect(agg.options).toEqual({ fullDocument: 'updateLookup' });
      expect(agg.pipeline).toEqual([{ $match: { 'ns.coll': { $in: ['users', 'orders'] } } }, { $changeStreamSplitLargeEvent: {} }]);
    });

    it('no collections: db.watch on the whole database', async () => {
      const s = source({ collections: [], pipeline: [{ $project: { 'fullDocument.secret': 0 } }] });
      expect(s.stream).toBe('shop');
      expect(s.describe()).toBe('database shop, all collections');
      const items = read(s);
      await items.next();
      server.insert('other.orders', { _id: 1 });
      server.insert('shop.carts', { _id: 2 });
      const [c] = await items.changes(1);
      expect(c.change.ns).toEqual({ db: 'shop', coll: 'carts' });
      expect(server.aggregates[0]).toMatchObject({ db: 'shop', aggregate: 1, pipeline: [{ $project: { 'fullDocument.secret': 0 } }, { $changeStreamSplitLargeEvent: {} }] });
    });

    it('no database: client.watch, an aggregate on admin with allChangesForCluster, stream *', async () => {
      const s = source({ database: undefined, collections: [] });
      expect(s.stream).toBe('*');
      expect(s.describe()).toBe('deployment, all databases');
      const items = read(s);
      await items.next();
      server.insert('shop.orders', { _id: 1 });
      server.insert('billing.invoices', { _id: 2 });
      const changes = await items.changes(2);
      expect(changes.map((c) => c.change.ns?.db)).toEqual(['shop', 'billing']);
      expect(server.aggregates[0]).toEqual({ db: 'admin', aggregate: 1, options: { allChangesForCluster: true, fullDocument: 'updateLookup' }, pipeline: [{ $changeStreamSplitLargeEvent: {} }] });
    });
  });

  describe('closing', () => {
    it('abort closes the change stream (killCursors) and the client, without waiting for the getMore', async () => {
      const items = read(source({ maxAwaitTimeMS: 10_000 }));
      const pending = items.next(); // the first getMore waits 10 s for events
      await until(() => server.count('getMore') === 1);
      const started = Date.now();
      items.ac.abort();
      expect(await pending).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(2000);
      expect(server.killCursorsRequests).toEqual([server.cursorIds[0]]);
      await until(() => server.openConnections === 0);
      expect(server.count('endSessions')).toBe(1);
    });

    it('leaving the loop (iterator return) closes them too', async () => {
      const s = source();
      const ac = new AbortController();
      server.insert('shop.orders', order(1));
      for await (const item of s.read(undefined, ac.signal)) {
        if (item.type === 'idle') break;
      }
      expect(server.killCursorsRequests).toEqual([server.cursorIds[0]]);
      await until(() => server.openConnections === 0);
    });

    it('an already aborted signal connects to nothing', async () => {
      const ac = new AbortController();
      ac.abort();
      const got: SourceItem[] = [];
      for await (const item of source().read(undefined, ac.signal)) got.push(item);
      expect(got).toEqual([]);
      expect(server.connectionsOpened).toBe(0);
    });
  });

  describe('BSON types through the real driver', () => {
    /** One value of every BSON type a document can hold, the ambiguous numbers first. */
    const typed = () => ({
      _id: new ObjectId(),
      double: new Double(5), // a double holding an integer: must not come back as an int32
      negativeZero: new Double(-0),
      fraction: new Double(0.1),
      int32: new Int32(7),
      int64: Long.fromString('9007199254740993'), // 2^53 + 1: not representable as a JS number
      smallInt64: Long.fromNumber(700), // fits a double, but stays an int64
      decimal: Decimal128.fromString('0.10'),
      date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
      objectId: new ObjectId('65a1b2c3d4e5f60718293a4b'),
      binary: new Binary(Buffer.from([0, 1, 2, 255]), 0),
      uuid: new Binary(Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), 4),
      timestamp: new Timestamp({ t: 1_795_000_000, i: 3 }),
      minKey: new MinKey(),
      maxKey: new MaxKey(),
      regex: new BSONRegExp('^a.c$', 'i'),
      text: 'é',
      flag: true,
      nothing: null,
      nested: { arrays: [[new Double(1), new Int32(2)], [Long.fromNumber(3), [new Double(4.5), new Decimal128('1E+3')]]], doubles: [new Double(2), new Double(-0)] },
    });

    /** Asserts that `value` is the same BSON value as `expected`, type included, recursively. */
    const sameBson = (value: unknown, expected: unknown) => expect(ejson(value)).toBe(ejson(expected));

    it('every BSON type reaches the reader as its own type: a double 5.0 is a Double, -0.0 stays negative, int64 beyond 2^53 exact', async () => {
      const items = read(source({ fullDocumentBeforeChange: 'whenAvailable' }));
      await items.next();
      const doc = typed();
      server.insert('shop.orders', doc);
      const after = { ...doc, double: new Double(6), int32: new Int32(8) };
      server.update('shop.orders', doc._id, { double: new Double(6), int32: new Int32(8) }, after, doc);
      const [ins, upd] = await items.changes(2);
      const full = ins.change.fullDocument!;
      sameBson(full, doc);
      expect(full['double']).toBeInstanceOf(Double);
      expect((full['double'] as Double).value).toBe(5);
      expect(Object.is((full['negativeZero'] as Double).value, -0)).toBe(true);
      expect(full['int32']).toBeInstanceOf(Int32);
      expect(full['int64']).toBeInstanceOf(Long);
      expect((full['int64'] as Long).toString()).toBe('9007199254740993');
      expect(full['smallInt64']).toBeInstanceOf(Long);
      expect(full['decimal']).toBeInstanceOf(Decimal128);
      expect(full['date']).toBeInstanceOf(Date);
      expect(full['binary']).toBeInstanceOf(Binary);
      expect(full['timestamp']).toBeInstanceOf(Timestamp);
      expect(full['minKey']).toBeInstanceOf(MinKey);
      expect(full['maxKey']).toBeInstanceOf(MaxKey);
      expect(((full['nested'] as { arrays: unknown[][] }).arrays[0][0])).toBeInstanceOf(Double);
      // Every other part of the event keeps its types too: the update's fields, the pre-image, the key.
      sameBson(upd.change.updateDescription, { updatedFields: { double: new Double(6), int32: new Int32(8) }, removedFields: [], truncatedArrays: [] });
      sameBson(upd.change.fullDocument, after);
      sameBson(upd.change.fullDocumentBeforeChange, doc);
      sameBson(upd.change.documentKey, { _id: doc._id });
      // The canonical Extended JSON the lake is written from says what the source held.
      expect(ejson(full)).toContain('"double":{"$numberDouble":"5.0"}');
      expect(ejson(full)).toContain('"negativeZero":{"$numberDouble":"-0.0"}');
      expect(ejson(full)).toContain('"int64":{"$numberLong":"9007199254740993"}');
      expect(ejson(full)).toContain('"smallInt64":{"$numberLong":"700"}');
    });

    it('types survive the driver\'s own resume after CursorNotFound (43), with nothing lost; error codes stay numbers', async () => {
      const items = read(source());
      await items.next();
      const [a, b] = [typed(), typed()];
      server.insert('shop.orders', a);
      const [first] = await items.changes(1);
      server.fail('getMore', { code: 43, codeName: 'CursorNotFound' });
      server.insert('shop.orders', b);
      const [second] = await items.changes(1);
      expect(server.aggregates).toHaveLength(2); // the driver resumed by itself
      expect(server.aggregates[1].options['resumeAfter']).toEqual(first.token);
      sameBson(first.change.fullDocument, a);
      sameBson(second.change.fullDocument, b); // the cursor the driver opened on resume keeps types too
      expect(second.change.fullDocument?.['double']).toBeInstanceOf(Double);

      // A server error still carries its code as a number (the driver's resume and SDAM rules compare it).
      server.fail('getMore', { code: 2, codeName: 'BadValue', errmsg: 'scripted failure' });
      const err = await items.next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect((err as MongoServerError).code).toBe(2);
    });

    it('a 286 on the driver\'s re-aggregate is still HistoryLostError with typed values on', async () => {
      const items = read(source());
      await items.next();
      server.insert('shop.orders', typed());
      await items.changes(1);
      server.fail('getMore', { code: 43, codeName: 'CursorNotFound' });
      server.noop();
      server.truncateOplog(1);
      const err = await items.next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HistoryLostError);
      expect(((err as Error).cause as MongoServerError).code).toBe(286);
    });
  });

  describe('OVERSIZE_EVENTS', () => {
    const MB = 1024 * 1024;
    const blob = (mb: number, ch: string) => ch.repeat(mb * MB);
    type Change = Extract<SourceItem, { type: 'change' }>;

    /**
     * An update event of about 27 MB: a 10 MB updateDescription, a 9 MB post-image (what
     * updateLookup finds: `lookup`) and an 8 MB pre-image. The server splits it into 3 fragments
     * by size: {metadata, pre-image}, {post-image}, {updateDescription}; each batch holds one.
     */
    function largeUpdate(id: number, lookup: () => Record<string, unknown> | null = () => ({ _id: id, blob: blob(9, 'a'), price: new Double(6) }), mb = { before: 8, update: 10 }) {
      const before = { _id: id, blob: blob(mb.before, 'b'), price: new Double(5) };
      const updatedFields = { blob: blob(mb.update, 'u'), price: new Double(6) };
      const event = server.update('shop.orders', id, updatedFields, lookup, before);
      return { event, before, updatedFields };
    }

    /** Everything read until `n` changes (or skipped items) have come. */
    async function readUntil(items: Items, n: number): Promise<SourceItem[]> {
      const got: SourceItem[] = [];
      while (got.filter((i) => i.type === 'change' || i.type === 'skipped').length < n) {
        const item = await items.next(20_000);
        if (!item) throw new Error(`iterator ended after ${JSON.stringify(got.map((i) => i.type))}`);
        got.push(item);
      }
      return got;
    }
    const changesOf = (items: SourceItem[]) => items.filter((i): i is Change => i.type === 'change');

    it('split (default): the stage ends the pipeline; a 27 MB event comes once, whole, with the token after its last fragment', async () => {
      const items = read(source({ fullDocumentBeforeChange: 'whenAvailable', pipeline: [{ $match: { operationType: { $in: ['insert', 'update'] } } }] }));
      await items.next();
      const e1 = server.insert('shop.orders', order(1));
      const large = largeUpdate(2);
      const e3 = server.insert('shop.orders', order(3));
      const got = await readUntil(items, 3);
      expect(server.aggregates[0].pipeline).toEqual([{ $match: { operationType: { $in: ['insert', 'update'] } } }, { $changeStreamSplitLargeEvent: {} }]);
      expect(server.fragmentsReturned).toBe(3);
      // Nothing between the events: no item, no position inside the split event.
      expect(got.map((i) => i.type)).toEqual(['change', 'change', 'change']);
      const [c1, whole, c3] = changesOf(got);
      expect(c1.change._id).toEqual(e1['_id']);
      expect(c3.change._id).toEqual(e3['_id']);

      expect(whole.fragments).toBe(3);
      const event = whole.change as unknown as Record<string, unknown>;
      expect(event).not.toHaveProperty('splitEvent');
      expect(Object.keys(event).sort()).toEqual(['_id', 'clusterTime', 'documentKey', 'fullDocument', 'fullDocumentBeforeChange', 'ns', 'operationType', 'updateDescription', 'wallTime']);
      expect(whole.change.operationType).toBe('update');
      expect(whole.change.ns).toEqual({ db: 'shop', coll: 'orders' });
      sameBsonValue(whole.change.documentKey, { _id: new Int32(2) });
      sameBsonValue(whole.change.clusterTime, large.event['clusterTime']);
      expect(whole.change.wallTime).toEqual(large.event['wallTime']);
      sameBsonValue(whole.change.fullDocument, { _id: new Int32(2), blob: blob(9, 'a'), price: new Double(6) });
      sameBsonValue(whole.change.fullDocumentBeforeChange, large.before);
      sameBsonValue(whole.change.updateDescription, { updatedFields: large.updatedFields, removedFields: [], truncatedArrays: [] });
      // Its token: the last fragment's (e3 was still buffered), which is also the event's _id here.
      expect(whole.token).toEqual(whole.change._id);
      expect(tokenClusterTime(whole.token)).toBe(tokenClusterTime(large.event['_id'] as { _data: string }));
      expect(whole.token).not.toEqual(large.event['_id']);

      // Resuming from it goes on after the whole event; from the token before it reads it again, whole.
      const after = read(source({ fullDocumentBeforeChange: 'whenAvailable' }), { token: whole.token });
      expect((await after.changes(1))[0].change._id).toEqual(e3['_id']);
      const again = read(source({ fullDocumentBeforeChange: 'whenAvailable' }), { token: c1.token });
      const replay = changesOf(await readUntil(again, 2));
      expect(replay[0].fragments).toBe(3);
      expect(ejson(replay[0].change)).toBe(ejson(whole.change));
      expect(replay[1].change._id).toEqual(e3['_id']);
    });

    it('split: a read stopped between fragments (crash after fragment 2 of 3) has reported only the position before the event', async () => {
      const items = read(source({ fullDocumentBeforeChange: 'whenAvailable' }));
      const initial = await items.next();
      server.maxBatch = 1;
      server.onCommand = (cmd) => {
        if (cmd.name !== 'getMore' || server.fragmentsReturned !== 2) return;
        // The process dies here: fragment 3 is never read.
        server.fail('getMore', { closeConnection: true });
        items.ac.abort();
      };
      const e1 = server.insert('shop.orders', order(1));
      largeUpdate(2);
      const e3 = server.insert('shop.orders', order(3));
      const got: SourceItem[] = [initial!];
      for (let item = await items.next(20_000); item; item = await items.next(20_000)) got.push(item);
      expect(server.fragmentsReturned).toBe(2);
      expect(got.map((i) => i.type)).toEqual(['idle', 'change']);
      const last = got.at(-1) as Change;
      expect(last.change._id).toEqual(e1['_id']);

      server.onCommand = undefined;
      const again = read(source({ fullDocumentBeforeChange: 'whenAvailable' }), { token: last.token });
      const [whole, next] = changesOf(await readUntil(again, 2));
      expect(whole.fragments).toBe(3);
      expect(whole.change.operationType).toBe('update');
      expect(next.change._id).toEqual(e3['_id']);
    });

    it('split: when the driver resumes by itself between fragments (43), the event is read again from before it, whole, even though the new split put the fields elsewhere', async () => {
      // The post-image shrinks from 10 MB to 8 MB between the reads: the first split is
      // {meta, pre 9}, {post 10}, {update 11}; the second {meta, post 8}, {pre 9}, {update 11}.
      // The driver resumes from fragment 1's token and the server goes on with fragment 2 of the
      // new split, the pre-image again: 3 fragments numbered in order, but joined to fragment 1
      // that event would have no post-image.
      let lookups = 0;
      const items = read(source({ fullDocumentBeforeChange: 'whenAvailable' }));
      await items.next();
      server.maxBatch = 1;
      const e1 = server.insert('shop.orders', order(1));
      const large = largeUpdate(2, () => ({ _id: 2, blob: blob(++lookups === 1 ? 10 : 8, 'a') }), { before: 9, update: 11 });
      server.onCommand = (cmd) => {
        if (cmd.name === 'getMore' && server.fragmentsReturned === 1 && server.aggregates.length === 1) server.fail('getMore', { code: 43, codeName: 'CursorNotFound' });
      };
      const got = await readUntil(items, 2);
      expect(got.map((i) => i.type)).toEqual(['change', 'change']);
      const [c1, whole] = changesOf(got);
      expect(c1.change._id).toEqual(e1['_id']);
      expect(whole.fragments).toBe(3);
      expect((whole.change.fullDocument?.['blob'] as string).length).toBe(8 * MB); // all from the last read
      expect((whole.change.fullDocumentBeforeChange?.['blob'] as string).length).toBe(9 * MB);
      expect(((whole.change.updateDescription?.['updatedFields'] as Record<string, unknown>)['blob'] as string).length).toBe(11 * MB);
      // The driver resumed inside the event; the source then read it again from the position before it.
      expect(server.aggregates).toHaveLength(3);
      // (from fragment 1's token: the event's cluster time, not the event's own token)
      expect(tokenClusterTime(server.aggregates[1].options['resumeAfter'])).toBe(tokenClusterTime(large.event['_id'] as { _data: string }));
      expect(server.aggregates[1].options['resumeAfter']).not.toEqual(large.event['_id']);
      expect(server.aggregates[2].options['resumeAfter']).toEqual(c1.token);
      expect(await items.within(200)).toEqual([]);
    });

    it('split: a 280 on the driver\'s resume between fragments (the event no longer needs splitting) is no history lost: the event is read again', async () => {
      let lookups = 0;
      const items = read(source());
      await items.next();
      server.maxBatch = 1;
      const e1 = server.insert('shop.orders', order(1));
      // 19 MB the first time (updateDescription 9 MB + post-image 10 MB: 2 fragments), then the document is small.
      const updatedFields = { blob: blob(9, 'u') };
      server.update('shop.orders', 2, updatedFields, () => ({ _id: 2, blob: ++lookups === 1 ? blob(10, 'a') : 'small' }));
      server.onCommand = (cmd) => {
        if (cmd.name === 'getMore' && server.fragmentsReturned === 1 && server.aggregates.length === 1) server.fail('getMore', { code: 43, codeName: 'CursorNotFound' });
      };
      const [c1, event] = changesOf(await readUntil(items, 2));
      expect(c1.change._id).toEqual(e1['_id']);
      expect(server.commands.filter((c) => c.name === 'aggregate')).toHaveLength(3); // ours, the driver's (280), ours again
      expect(event.fragments).toBeUndefined(); // small enough now: one piece
      expect(event.change.fullDocument).toEqual({ _id: new Int32(2), blob: 'small' });
      sameBsonValue(event.change.updateDescription, { updatedFields, removedFields: [], truncatedArrays: [] });
    });

    it('split: resuming after a split event whose document has since shrunk (280, the server splits it differently now) finds the event again and goes on after it', async () => {
      let lookups = 0;
      const items = read(source());
      await items.next();
      const e1 = server.insert('shop.orders', order(1));
      // 19 MB the first time it is read (updateDescription 9 MB + post-image 10 MB: 2 fragments), then small.
      const large = server.update('shop.orders', 2, { blob: blob(9, 'u') }, () => ({ _id: 2, blob: ++lookups === 1 ? blob(10, 'a') : 'small' }));
      const e3 = server.insert('shop.orders', order(3));
      const [c1, whole] = changesOf(await readUntil(items, 3));
      expect(c1.change._id).toEqual(e1['_id']);
      expect(whole.fragments).toBe(2);
      expect(whole.token).toEqual(whole.change._id); // the last fragment's: e3 was still buffered
      await items.stop();

      // The reader restarts from that position (the split event's batch was the last stored).
      const before = server.aggregates.length;
      const again = read(source(), { token: whole.token });
      const got = await readUntil(again, 1);
      expect(got).toMatchObject([{ type: 'change', change: { _id: e3['_id'] } }]);
      const e4 = server.insert('shop.orders', order(4));
      expect((await again.changes(1))[0].change._id).toEqual(e4['_id']);
      const tail = server.aggregates.slice(before).map((a) => ({ options: a.options, pipeline: a.pipeline }));
      expect(tail).toEqual([
        { options: { fullDocument: 'updateLookup', resumeAfter: whole.token }, pipeline: [{ $changeStreamSplitLargeEvent: {} }] }, // 280
        { options: { fullDocument: 'updateLookup', startAtOperationTime: large['clusterTime'] }, pipeline: [{ $project: { fullDocument: 0, fullDocumentBeforeChange: 0, updateDescription: 0 } }] },
        { options: { fullDocument: 'updateLookup', resumeAfter: large['_id'] }, pipeline: [] },
        { options: { fullDocument: 'updateLookup', resumeAfter: got[0].token }, pipeline: [{ $changeStreamSplitLargeEvent: {} }] },
      ]);
    });

    it('split: a dropped connection while looking for the split event again is an error to retry, not an oversize halt', async () => {
      let lookups = 0;
      const items = read(source());
      await items.next();
      server.update('shop.orders', 2, { blob: blob(9, 'u') }, () => ({ _id: 2, blob: ++lookups === 1 ? blob(10, 'a') : 'small' }));
      const e2 = server.insert('shop.orders', order(3));
      const [whole] = changesOf(await readUntil(items, 1));
      expect(whole.fragments).toBe(2);
      await items.stop();

      // The resume is refused (280); the probe's aggregate, and the driver's one retry of it, lose the connection.
      server.fail('aggregate', { closeConnection: true }, 1);
      server.fail('aggregate', { closeConnection: true });
      const failed = read(source(), { token: whole.token });
      const err = await failed.next().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(OversizeEventError);
      expect(err).not.toBeInstanceOf(HistoryLostError);
      // The reader's retry finds the event and goes on after it.
      const again = read(source(), { token: whole.token });
      expect(await readUntil(again, 1)).toMatchObject([{ type: 'change', change: { _id: e2['_id'] } }]);
    });

    it('split: resuming after a split event whose document has since grown drops the extra fragments the server sends after the position', async () => {
      let lookups = 0;
      const items = read(source({ fullDocumentBeforeChange: 'whenAvailable' }));
      await items.next();
      // Pre-image 8 MB, updateDescription 9 MB, post-image 3 MB then 10 MB: 2 fragments, then 3.
      server.update('shop.orders', 1, { blob: blob(9, 'u') }, () => ({ _id: 1, blob: blob(++lookups === 1 ? 3 : 10, 'a') }), { _id: 1, blob: blob(8, 'b') });
      const e2 = server.insert('shop.orders', order(2));
      const [whole] = changesOf(await readUntil(items, 2));
      expect(whole.fragments).toBe(2);
      await items.stop();

      const returned = server.fragmentsReturned;
      const again = read(source({ fullDocumentBeforeChange: 'whenAvailable' }), { token: whole.token });
      expect(await readUntil(again, 1)).toMatchObject([{ type: 'change', change: { _id: e2['_id'] } }]);
      expect(server.fragmentsReturned).toBe(returned + 1); // fragment 3 of the new split: the rest of an event already read whole
      expect(await again.within(200)).toEqual([]);
    });

    it('skip: an event above 16 MiB is not delivered: a skipped item with the reason, namespace, key, operation, cluster time and the token after it', async () => {
      const s = source({ fullDocumentBeforeChange: 'whenAvailable', oversizeEvents: 'skip' });
      expect(s.pipeline().at(-1)).toEqual({ $changeStreamSplitLargeEvent: {} });
      const items = read(s);
      await items.next();
      server.insert('shop.orders', order(1));
      const large = largeUpdate(2);
      const e3 = server.insert('shop.orders', order(3));
      const got = await readUntil(items, 3);
      expect(got.map((i) => i.type)).toEqual(['change', 'skipped', 'change']);
      const skipped = got[1] as Extract<SourceItem, { type: 'skipped' }>;
      expect(skipped.bytes).toBeGreaterThan(MAX_BSON_OBJECT_SIZE);
      expect(skipped.reason).toBe(`change event of ${skipped.bytes} bytes of BSON is larger than 16 MiB (OVERSIZE_EVENTS=skip)`);
      expect(skipped.namespace).toEqual({ db: 'shop', coll: 'orders' });
      sameBsonValue(skipped.documentKey, { _id: new Int32(2) });
      expect(skipped.operationType).toBe('update');
      sameBsonValue(skipped.clusterTime, large.event['clusterTime']);
      expect(tokenClusterTime(skipped.token)).toBe(tokenClusterTime(large.event['_id'] as { _data: string }));
      expect((got[2] as Change).change._id).toEqual(e3['_id']);
      // Resuming from the skipped item's token goes on after it.
      const after = read(source({ fullDocumentBeforeChange: 'whenAvailable', oversizeEvents: 'skip' }), { token: skipped.token });
      expect((await after.changes(1))[0].change._id).toEqual(e3['_id']);
    });

    /** An insert whose document alone is over 16 MB: no split can make it fit (a stored document cannot be, but a pipeline stage can make such a field). */
    const unsplittable = (id: number) => server.event('shop.orders', { operationType: 'insert', documentKey: { _id: id }, fullDocument: { _id: id, blob: blob(17, 'x') } });
    const skippedOf = (items: SourceItem[]) => items.filter((i): i is Extract<SourceItem, { type: 'skipped' }> => i.type === 'skipped');

    it('skip: an event the server cannot split is stepped up to, probed for its key and skipped; the events around it arrive, none twice', async () => {
      const s = source({ oversizeEvents: 'skip' });
      const items = read(s);
      const initial = await items.next();
      const e1 = server.insert('shop.orders', order(1));
      const x = unsplittable(2);
      const e3 = server.insert('shop.orders', order(3));
      const got = await readUntil(items, 3);
      expect(got.map((i) => i.type)).toEqual(['change', 'skipped', 'change']);
      const [c1, c3] = changesOf(got);
      const [skipped] = skippedOf(got);
      expect(c1.change._id).toEqual(e1['_id']);
      expect(c3.change._id).toEqual(e3['_id']);
      expect(skipped).toMatchObject({ namespace: { db: 'shop', coll: 'orders' }, operationType: 'insert' });
      expect(skipped.reason).toBe('change event cannot be split into fragments under 16 MB: one of its top-level fields alone is over 16 MB (server error 7182500; OVERSIZE_EVENTS=skip)');
      sameBsonValue(skipped.documentKey, { _id: new Int32(2) });
      sameBsonValue(skipped.clusterTime, x['clusterTime']);
      // An event followed it: its token is the position before it (its own resumes only without the split stage).
      expect(skipped.token).toEqual(c1.token);
      const e4 = server.insert('shop.orders', order(4));
      expect((await items.changes(1))[0].change._id).toEqual(e4['_id']);
      // The streams it took: the batch that failed, one event per batch up to the event (failing
      // again), the probe (large fields left out, no split stage) from the position before, the
      // bridge after the event's own token (no split stage), then the stream as usual.
      const aggs = server.commands.filter((c) => c.name === 'aggregate').map((c) => ({ options: c.body['pipeline'][0].$changeStream, stages: c.body['pipeline'].slice(1), batchSize: c.body['cursor']?.batchSize }));
      expect(aggs).toEqual([
        { options: { fullDocument: 'updateLookup' }, stages: [{ $changeStreamSplitLargeEvent: {} }], batchSize: undefined },
        { options: { fullDocument: 'updateLookup', resumeAfter: initial!.token }, stages: [{ $changeStreamSplitLargeEvent: {} }], batchSize: 1 },
        { options: { fullDocument: 'updateLookup', resumeAfter: c1.token }, stages: [{ $project: { fullDocument: 0, fullDocumentBeforeChange: 0, updateDescription: 0 } }], batchSize: 1 },
        { options: { fullDocument: 'updateLookup', resumeAfter: x['_id'] }, stages: [], batchSize: 1 },
        { options: { fullDocument: 'updateLookup', resumeAfter: c3.token }, stages: [{ $changeStreamSplitLargeEvent: {} }], batchSize: undefined },
      ]);

      // A replay from the skipped item's token meets it again and skips it again, the same way.
      const replay = await readUntil(read(source({ oversizeEvents: 'skip' }), { token: skipped.token }), 3);
      expect(replay.map((i) => i.type)).toEqual(['skipped', 'change', 'change']);
      expect(ejson(skippedOf(replay)[0])).toBe(ejson(skipped));
      expect(changesOf(replay).map((c) => c.change._id)).toEqual([e3['_id'], e4['_id']]);
    });

    it('skip: an unsplittable event at the end of the stream is skipped with a post-batch token past it', async () => {
      const items = read(source({ oversizeEvents: 'skip' }));
      await items.next();
      const x = unsplittable(1);
      server.noop(); // the primary's periodic no-op (every 10 s on a replica set) moves the post-batch token past it
      const [skipped] = skippedOf(await readUntil(items, 1));
      sameBsonValue(skipped.documentKey, { _id: new Int32(1) });
      expect(skipped.token).not.toEqual(x['_id']);
      expect(tokenClusterTime(skipped.token)).toBe('1795000000.3'); // the no-op's, after the event's (.2)
      expect(tokenClusterTime(x['_id'] as { _data: string })).toBe('1795000000.2');
      // Resuming from it (with the split stage) goes on after the event.
      const after = read(source({ oversizeEvents: 'skip' }), { token: skipped.token });
      const e2 = server.insert('shop.orders', order(2));
      expect(await readUntil(after, 1)).toMatchObject([{ type: 'change', change: { _id: e2['_id'] } }]);
    });

    it('skip: right after a split event (a fragment\'s token, which only the split stage resumes from) the probe starts before that event', async () => {
      const items = read(source({ fullDocumentBeforeChange: 'whenAvailable', oversizeEvents: 'skip' }));
      const initial = await items.next();
      // A split event of 17 MB (a 9 MB post-image, an 8 MB pre-image): above 16 MiB, so skipped too, once reassembled.
      const id = 1;
      server.update('shop.orders', id, { n: 1 }, { _id: id, blob: blob(9, 'a') }, { _id: id, blob: blob(8, 'b') });
      const x = unsplittable(2);
      const e3 = server.insert('shop.orders', order(3));
      const got = await readUntil(items, 3);
      expect(got.map((i) => i.type)).toEqual(['skipped', 'skipped', 'change']);
      const [large, skipped] = skippedOf(got);
      expect(large.reason).toContain('larger than 16 MiB');
      sameBsonValue(skipped.documentKey, { _id: new Int32(2) });
      sameBsonValue(skipped.clusterTime, x['clusterTime']);
      expect(skipped.token).toEqual(large.token); // the position before it: the split event's last fragment
      expect(changesOf(got)[0].change._id).toEqual(e3['_id']);
      const probeAgg = server.aggregates.find((a) => a.pipeline.some((st) => '$project' in st));
      expect(probeAgg?.options['resumeAfter']).toEqual(initial!.token); // before the split event, passing it
    });

    it('fail: no split stage; an event over 16 MB (10334 BSONObjectTooLarge) is OversizeEventError, on a getMore and on the first aggregate, never retried', async () => {
      const s = source({ fullDocumentBeforeChange: 'whenAvailable', oversizeEvents: 'fail' });
      const items = read(s);
      await items.next();
      const e1 = server.insert('shop.orders', order(1));
      const [c1] = await items.changes(1);
      expect(c1.change._id).toEqual(e1['_id']);
      largeUpdate(2);
      const err = await items.next(20_000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OversizeEventError);
      expect(err).toMatchObject({ reason: 'too-large', stream: 'shop.orders' });
      expect((err as Error).message).toContain('OVERSIZE_EVENTS=fail');
      expect((err as Error).message).toContain('set OVERSIZE_EVENTS=split');
      expect(((err as Error).cause as MongoServerError).code).toBe(10334);
      expect(server.aggregates).toHaveLength(1); // the driver does not resume a 10334
      expect(server.aggregates[0].pipeline).toEqual([]);
      await until(() => server.openConnections === 0);

      const again = read(s, { token: c1.token }); // the event is in the aggregate's first batch
      await expect(again.next(20_000)).rejects.toMatchObject({ name: 'OversizeEventError', reason: 'too-large' });
    });

    it('split on a server without $changeStreamSplitLargeEvent (before 7.0 / 6.0.9): OversizeEventError saying to set OVERSIZE_EVENTS=fail', async () => {
      await server.close();
      server = await MongoWireServer.start({ splitStage: false });
      const err = await read(source()).next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OversizeEventError);
      expect(err).toMatchObject({ reason: 'unsupported' });
      expect((err as Error).message).toContain('set OVERSIZE_EVENTS=fail');
      expect(((err as Error).cause as MongoServerError).code).toBe(40324);
      // With fail, that server is read as before.
      const items = read(source({ oversizeEvents: 'fail' }));
      await items.next();
      const e1 = server.insert('shop.orders', order(1));
      expect((await items.changes(1))[0].change._id).toEqual(e1['_id']);
    });

    it('split: an event one of whose fields alone is over 16 MB cannot be split (7182500): OversizeEventError naming PIPELINE and OVERSIZE_EVENTS=skip', async () => {
      const items = read(source());
      await items.next();
      server.event('shop.orders', { operationType: 'insert', documentKey: { _id: 1 }, fullDocument: { _id: 1, blob: blob(17, 'x') } });
      const err = await items.next(20_000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OversizeEventError);
      expect(err).toMatchObject({ reason: 'unsplittable' });
      expect((err as Error).message).toContain('PIPELINE');
      expect((err as Error).message).toContain('OVERSIZE_EVENTS=skip');
      expect(((err as Error).cause as MongoServerError).code).toBe(7182500);
    });
  });

  it('end to end through the reader\'s mapping: operation, collection, cluster time, Extended JSON documents', async () => {
    const s = source();
    const items = read(s);
    await items.next();
    const doc = { ...order(7), price: new Double(5), exact: Decimal128.fromString('0.10') };
    const ins = server.insert('shop.orders', doc);
    server.tick(1);
    const upd = server.update('shop.orders', doc._id, { n: 8 }, { ...doc, n: 8 });
    const del = server.delete('shop.orders', doc._id);
    const changes = await items.changes(3);
    const envelopes = changes.map((c, i) => toEnvelope(c.change, s.stream, 1, i + 1));

    expect(envelopes.map((e) => e.operation)).toEqual(['insert', 'update', 'delete']);
    expect(envelopes.every((e) => e.database === 'shop' && e.collection === 'orders' && e.stream === 'shop.orders')).toBe(true);
    expect(envelopes.map((e) => e.cluster_time)).toEqual(['1795000000.2', '1795000001.1', '1795000001.2']);
    expect(envelopes.map((e) => e.cluster_time)).toEqual([ins, upd, del].map((e) => tokenClusterTime(e['_id'] as { _data: string })));
    expect(envelopes[0].wall_time).toBe((ins['wallTime'] as Date).toISOString());

    // Every value keeps its BSON type: 64-bit integers stay 64-bit (the driver's default would make
    // 700 an int) and a double holding an integer stays a double.
    expect(envelopes[0].full_document).toBe(ejson(doc));
    expect(envelopes[0].full_document).toContain(`{"$oid":"${doc._id.toHexString()}"}`);
    expect(envelopes[0].full_document).toContain('"total":{"$numberLong":"700"}');
    expect(envelopes[0].full_document).toContain('"price":{"$numberDouble":"5.0"}');
    expect(envelopes[0].full_document).toContain('"exact":{"$numberDecimal":"0.10"}');
    expect(envelopes[0].full_document).toContain('"at":{"$date":{"$numberLong":"1767744000000"}}');
    expect(envelopes[0].document_key).toBe(`{"_id":{"$oid":"${doc._id.toHexString()}"}}`);
    expect(envelopes[1].full_document).toBe(ejson({ ...doc, n: 8 })); // updateLookup
    expect(envelopes[1].update_description).toBe('{"updatedFields":{"n":{"$numberInt":"8"}},"removedFields":[],"truncatedArrays":[]}');
    expect(envelopes[2].full_document).toBeNull();
  });
});

describe('createMongoSource', () => {
  const config = { MONGODB_URI: new Secret('mongodb://127.0.0.1:1/'), MONGODB_DATABASE: 'shop', MONGODB_COLLECTIONS: ['orders', 'users'], FULL_DOCUMENT: 'updateLookup' as const, FULL_DOCUMENT_BEFORE_CHANGE: 'off' as const, PIPELINE: '[]' };

  it('builds the scope, options and pipeline from the config (PIPELINE may use Extended JSON)', () => {
    const s = createMongoSource({ ...config, PIPELINE: '[{"$match":{"wallTime":{"$gte":{"$date":"2026-01-01T00:00:00Z"}}}}]' });
    expect(s.stream).toBe('shop.{orders,users}');
    expect(s.oversizeEvents).toBe('split');
    expect(s.pipeline()).toEqual([{ $match: { 'ns.coll': { $in: ['orders', 'users'] } } }, { $match: { wallTime: { $gte: new Date('2026-01-01T00:00:00Z') } } }, { $changeStreamSplitLargeEvent: {} }]);
    // No BSON options: exact types come from keepExactBsonTypes (promoteValues here would break error codes).
    expect(s.watchOptions(undefined)).toEqual({ maxAwaitTimeMS: 1000, fullDocument: 'updateLookup' });
    expect(s.watchOptions({ token: { _data: '82' }, startAfter: true })).toEqual({ maxAwaitTimeMS: 1000, fullDocument: 'updateLookup', startAfter: { _data: '82' } });
    expect(createMongoSource({ ...config, OVERSIZE_EVENTS: 'skip' }).pipeline().at(-1)).toEqual({ $changeStreamSplitLargeEvent: {} });
    expect(createMongoSource({ ...config, OVERSIZE_EVENTS: 'fail' }).pipeline()).toEqual([{ $match: { 'ns.coll': { $in: ['orders', 'users'] } } }]);
    expect(createMongoSource({ ...config, MONGODB_COLLECTIONS: ['orders'] }).stream).toBe('shop.orders');
    expect(createMongoSource({ ...config, MONGODB_DATABASE: undefined, MONGODB_COLLECTIONS: [] }).stream).toBe('*');
  });

  it('never shows the URI', () => {
    const s = createMongoSource({ ...config, MONGODB_URI: new Secret('mongodb://user:hunter2@db.example:27017/') });
    expect(JSON.stringify(s)).not.toContain('hunter2');
    expect(s.describe()).not.toContain('hunter2');
  });

  it('refuses a missing URI, collections without a database, and a pipeline that is not an array of stages', () => {
    expect(() => createMongoSource({ ...config, MONGODB_URI: undefined })).toThrow(ConfigError);
    expect(() => createMongoSource({ ...config, MONGODB_DATABASE: undefined })).toThrow(/MONGODB_COLLECTIONS/);
    expect(() => createMongoSource({ ...config, PIPELINE: '[1]' })).toThrow(/PIPELINE/);
    const bad = () => createMongoSource({ ...config, MONGODB_URI: new Secret('mongodb://user:hunter2@db.example/?noSuchOption=1') });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/MONGODB_URI: not a valid MongoDB connection string: option nosuchoption is not supported/);
    expect(bad).not.toThrow(/hunter2/);
  });

  it('reads the cluster time out of a resume token, when it has one', () => {
    expect(tokenClusterTime({ _data: '826A1B2C3D000000052B042C0100296E5A1004' })).toBe(`${0x6a1b2c3d}.5`);
    expect(tokenClusterTime({ _data: 'not hex' })).toBeUndefined();
    expect(tokenClusterTime({})).toBeUndefined();
  });
});

// The same source through the real driver on the MongoDB stand-in (libs/testing): events from real
// writes, updateLookup at read time, the server's split of large events.
sourceScenarios('the MongoDB stand-in', async () => {
  const m = await MongoStandIn.start();
  return {
    uri: m.uri,
    async failNextChangeStreamGetMore(admin, code) {
      await admin.db('admin').command({ runnelFault: { command: 'getMore', error: { code }, times: 1, changeStream: true } });
      return true;
    },
    stop: () => m.stop(),
  };
});
