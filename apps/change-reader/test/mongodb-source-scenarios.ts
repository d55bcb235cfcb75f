import { randomBytes } from 'node:crypto';
import { Binary, BSONRegExp, Decimal128, Double, EJSON, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { type Collection, type Document, MongoClient } from 'mongodb';
import { Secret } from '@runnel/config';
import { MAX_BSON_OBJECT_SIZE, OversizeEventError, type ResumePoint, type SourceItem } from '../src/sources/change-source';
import { MongoChangeSource, type MongoSourceOptions } from '../src/sources/mongodb-source';

/**
 * The MongoDB source's scenarios for a deployment the real driver writes to and reads from: the
 * MongoDB stand-in (mongodb-source.spec.ts) and a real replica set (mongodb-replica-set.spec.ts,
 * with MONGODB_URI). Unlike the scripted wire server, events here come from real writes.
 */
export interface Deployment {
  uri: string;
  /** Makes the next getMore of the source's change stream fail with `code`; false when the deployment cannot. */
  failNextChangeStreamGetMore(admin: MongoClient, code: number): Promise<boolean>;
  stop(): Promise<void>;
}

type Change = Extract<SourceItem, { type: 'change' }>;

/** One read() of the source, item by item, with a timeout per item. */
export class Items {
  readonly ac = new AbortController();
  readonly #it: AsyncIterator<SourceItem>;
  #pending?: Promise<IteratorResult<SourceItem>>;

  constructor(source: MongoChangeSource, from?: ResumePoint) {
    this.#it = source.read(from, this.ac.signal)[Symbol.asyncIterator]();
  }

  async next(ms = 30_000): Promise<SourceItem | undefined> {
    let timer: NodeJS.Timeout | undefined;
    this.#pending ??= this.#it.next();
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no item within ${ms} ms`)), ms)));
    try {
      const r = await Promise.race([this.#pending, timeout]);
      this.#pending = undefined;
      return r.done ? undefined : r.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Items until `n` of them are changes or skipped events (idle items included). */
  async until(n: number): Promise<SourceItem[]> {
    const got: SourceItem[] = [];
    while (got.filter((i) => i.type === 'change' || i.type === 'skipped').length < n) {
      const item = await this.next();
      if (!item) throw new Error(`iterator ended after ${JSON.stringify(got.map((i) => i.type))}`);
      got.push(item);
    }
    return got;
  }

  async changes(n: number): Promise<Change[]> {
    return (await this.until(n)).filter((i): i is Change => i.type === 'change');
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.#pending?.catch(() => undefined);
    await this.#it.return?.();
  }
}

const ejson = (v: unknown) => EJSON.stringify({ v }, { relaxed: false });
/** Same BSON value, type included (canonical Extended JSON). */
const sameBson = (value: unknown, expected: unknown) => expect(ejson(value)).toBe(ejson(expected));
const MB = 1024 * 1024;

/** One value of every BSON type a stored document can hold. */
export function everyType(): Document {
  return {
    _id: new ObjectId(),
    double: new Double(5),
    negativeZero: new Double(-0),
    fraction: new Double(0.1),
    int32: new Int32(7),
    int64: Long.fromString('9007199254740993'),
    smallInt64: Long.fromNumber(700),
    decimal: Decimal128.fromString('0.10'),
    date: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
    objectId: new ObjectId('65a1b2c3d4e5f60718293a4b'),
    binary: new Binary(Buffer.from([0, 1, 2, 255]), 0),
    uuid: new Binary(Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), 4),
    timestamp: new Timestamp({ t: 1_795_000_000, i: 3 }),
    minKey: new MinKey(),
    maxKey: new MaxKey(),
    regex: new BSONRegExp('^a.c$', 'i'),
    // Flags JS RegExp lacks (x) or that EJSON refuses from a JS RegExp (s): kept only as BSONRegExp.
    regexExtended: new BSONRegExp('a b # spaced', 'x'),
    regexDotAll: new BSONRegExp('a.b', 'ms'),
    text: 'é',
    flag: true,
    nothing: null,
    nested: { arrays: [[new Double(1), new Int32(2)], [Long.fromNumber(3), [new Double(4.5), new Decimal128('1E+3')]]], doubles: [new Double(2), new Double(-0)] },
  };
}

export function sourceScenarios(name: string, start: () => Promise<Deployment>): void {
  describe(`MongoChangeSource on ${name} (real driver)`, () => {
    const database = process.env['MONGODB_TEST_DATABASE'] ?? 'runnel_test';
    let deployment: Deployment;
    let client: MongoClient;
    let coll: Collection<Document>;
    let collection: string;
    const readers: Items[] = [];

    const source = (o: Partial<MongoSourceOptions> = {}) =>
      new MongoChangeSource({
        uri: new Secret(deployment.uri),
        database,
        collections: [collection],
        fullDocument: 'updateLookup',
        fullDocumentBeforeChange: 'off',
        pipeline: [],
        maxAwaitTimeMS: 200,
        idleRepeatMs: 60_000,
        ...o,
      });
    const read = (s: MongoChangeSource, from?: ResumePoint) => {
      const items = new Items(s, from);
      readers.push(items);
      return items;
    };
    /** An update event of about 18 MB: a 9 MB updateDescription and the 9 MB document updateLookup finds (2 fragments). */
    const largeUpdate = async (id: number) => {
      await coll.insertOne({ _id: id as never, blob: 'a'.repeat(9 * MB) });
      await coll.updateOne({ _id: id as never }, { $set: { blob: 'b'.repeat(9 * MB) } });
    };

    beforeAll(async () => {
      deployment = await start();
      client = await MongoClient.connect(deployment.uri, { serverSelectionTimeoutMS: 10_000, appName: 'runnel-scenario-writer' });
    });

    beforeEach(async () => {
      collection = `source_${Date.now()}_${randomBytes(3).toString('hex')}`;
      await client.db(database).createCollection(collection);
      coll = client.db(database).collection<Document>(collection);
    });

    afterEach(async () => {
      for (const r of readers.splice(0)) await r.stop().catch(() => undefined);
      await coll.drop().catch(() => undefined);
    });

    afterAll(async () => {
      await client?.close();
      await deployment?.stop();
    });

    it('every BSON type written through the driver comes back as its own type (a double 5.0 stays a Double)', async () => {
      const items = read(source());
      expect((await items.next())?.type).toBe('idle');
      const doc = everyType();
      await coll.insertOne(doc);
      await coll.updateOne({ _id: doc['_id'] }, { $set: { double: new Double(6), int32: new Int32(8) } });
      const [ins, upd] = await items.changes(2);
      sameBson(ins.change.fullDocument, doc);
      expect(ins.change.fullDocument?.['double']).toBeInstanceOf(Double);
      expect(ins.change.fullDocument?.['int64']).toBeInstanceOf(Long);
      sameBson((upd.change.updateDescription as Document)['updatedFields'], { double: new Double(6), int32: new Int32(8) });
      // updateLookup: the document as it is when read (here: not changed since).
      sameBson(upd.change.fullDocument, { ...doc, double: new Double(6), int32: new Int32(8) });
    });

    it('after CursorNotFound (43) the driver resumes by itself: nothing lost, nothing repeated, types kept', async () => {
      const items = read(source());
      await items.next();
      const a = everyType();
      await coll.insertOne(a);
      const [first] = await items.changes(1);
      if (!(await deployment.failNextChangeStreamGetMore(client, 43))) {
        process.stderr.write(`\n${name}: cannot inject a getMore failure; the resume part of this scenario is skipped\n`);
        return;
      }
      const b = everyType();
      await coll.insertOne(b);
      const [second] = await items.changes(1);
      sameBson(first.change.fullDocument, a);
      sameBson(second.change.fullDocument, b);
      expect(second.change.fullDocument?.['double']).toBeInstanceOf(Double);
    });

    /** The split event, whole, and the event after it. */
    const readLargeUpdate = async () => {
      const items = read(source());
      await items.next();
      await largeUpdate(1);
      await coll.insertOne({ _id: 2 as never });
      const got = await items.until(3);
      expect(got.map((i) => i.type)).toEqual(['change', 'change', 'change']);
      const [, whole, next] = got as Change[];
      return { whole, next };
    };

    it('OVERSIZE_EVENTS=split: an 18 MB update event arrives once, whole', async () => {
      const { whole } = await readLargeUpdate();
      expect(whole.fragments).toBe(2);
      expect(whole.change.operationType).toBe('update');
      expect(whole.change).not.toHaveProperty('splitEvent');
      expect((whole.change.fullDocument?.['blob'] as string).length).toBe(9 * MB);
      expect((((whole.change.updateDescription as Document)['updatedFields'] as Document)['blob'] as string).length).toBe(9 * MB);
    });

    it('OVERSIZE_EVENTS=split: resuming from the token after a split event (its last fragment\'s) goes on after it', async () => {
      const { whole, next } = await readLargeUpdate();
      const after = read(source(), { token: whole.token });
      const resumed = await after.changes(1);
      expect(resumed[0].change._id).toEqual(next.change._id);
    });

    it('OVERSIZE_EVENTS=split: resuming after a split event whose document has since shrunk (280: the server no longer splits it) finds the event again and goes on after it', async () => {
      const { whole, next } = await readLargeUpdate();
      // updateLookup reads the document as it is now: the event is 9 MB, no longer split.
      await coll.updateOne({ _id: 1 as never }, { $set: { blob: 'small' } });
      const after = read(source(), { token: whole.token });
      const [first, second] = await after.changes(2);
      expect(first.change._id).toEqual(next.change._id);
      expect(second.change.operationType).toBe('update');
      expect(second.change.fullDocument?.['blob']).toBe('small');
      // Nothing of the large event again: the next write is the next change.
      await coll.insertOne({ _id: 3 as never });
      expect((await after.changes(1))[0].change.operationType).toBe('insert');
    });

    it('OVERSIZE_EVENTS=skip: the 18 MB event is a skipped item with its key; the next event follows', async () => {
      const items = read(source({ oversizeEvents: 'skip' }));
      await items.next();
      await largeUpdate(1);
      await coll.insertOne({ _id: 2 as never });
      const got = (await items.until(3)).filter((i) => i.type !== 'idle');
      expect(got.map((i) => i.type)).toEqual(['change', 'skipped', 'change']);
      const skipped = got[1] as Extract<SourceItem, { type: 'skipped' }>;
      expect(skipped.operationType).toBe('update');
      expect(skipped.namespace).toEqual({ db: database, coll: collection });
      sameBson(skipped.documentKey, { _id: new Int32(1) });
      expect(skipped.bytes).toBeGreaterThan(MAX_BSON_OBJECT_SIZE);
    });

    it('OVERSIZE_EVENTS=fail: the 18 MB event stops the stream with OversizeEventError', async () => {
      const items = read(source({ oversizeEvents: 'fail' }));
      await items.next();
      await coll.insertOne({ _id: 0 as never });
      await items.changes(1);
      await largeUpdate(1);
      const err = await (async () => {
        for (;;) await items.next();
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OversizeEventError);
      expect(err).toMatchObject({ reason: 'too-large' });
    });
  });
}
