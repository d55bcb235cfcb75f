/**
 * A source workload for MongoDB, written through the real `mongodb` driver, so it runs unchanged
 * against the stand-in (libs/testing MongoStandIn) and against a real replica set.
 *
 * It writes what makes a change stream hard to capture exactly: inserts, updates (with $set, $inc,
 * $push, $unset), replacements, deletes, updates that are followed at once by another write of the
 * same document (with `fullDocument: 'updateLookup'` the first event's lookup then returns the later
 * version, or null when the second write deleted it: a replay of the event differs from its first
 * read), documents holding every common BSON type, and optionally one update whose change event is
 * above 16 MiB (only readable with `$changeStreamSplitLargeEvent`).
 *
 * Deterministic: the sequence of writes depends only on the seed and the options (the rate only
 * spaces them out). Every write changes something, so each one is exactly one change event, and
 * `events` in the report is what a reader of the database must see.
 *
 * From the command line: tools/mongo/workload-writer.ts.
 */
import { BSON, Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, MongoClient, ObjectId, Timestamp, type Document } from 'mongodb';

export interface WorkloadOptions {
  /** Connection string (ignored when `client` is given). */
  uri?: string;
  /** A connected client to write through (left open); otherwise one is made from `uri` and closed at the end. */
  client?: MongoClient;
  /** Default `shop`. */
  database?: string;
  /** Default orders, customers, products. Ids by position: integers, strings, ObjectIds (repeating). */
  collections?: string[];
  /** Change events to cause; 0 or unset: until `signal` aborts. */
  count?: number;
  /** Change events per second; 0 or unset: as fast as the server answers. */
  rate?: number;
  /** Default 1. */
  seed?: number;
  /**
   * Cause one update whose change event (with updateLookup) is above 16 MiB: a ~9 MiB document whose
   * two ~4.6 MiB fields are both replaced, so updateDescription and fullDocument together exceed the
   * BSON limit and the server must split the event ($changeStreamSplitLargeEvent) or fail the cursor
   * (10334). Written when half of `count` is done (or after 100 events without a count).
   */
  oversizeEvent?: boolean;
  /**
   * Pad each inserted or replaced document with a `payload` string to about this many BSON bytes (the
   * benchmark's SYNTHETIC_DOC_BYTES counterpart). Unset: no padding (~450 bytes).
   */
  documentBytes?: number;
  /** Live documents per collection at most: beyond it inserts turn into deletes (keeps long runs bounded). Default 1000. */
  maxLiveDocuments?: number;
  signal?: AbortSignal;
}

export interface WorkloadReport {
  database: string;
  collections: string[];
  /** Change events the writes caused (one per write): what a reader of the database must see. */
  events: number;
  inserts: number;
  updates: number;
  replaces: number;
  deletes: number;
  /**
   * Updates followed at once by another write of the same document (an update or a delete): with
   * updateLookup the first event may carry the later version, or null.
   */
  racedUpdates: number;
  /** Updates whose change event is above 16 MiB. */
  oversizeEvents: number;
  /** Events per collection. */
  perCollection: Record<string, number>;
  /** Documents left in the collections. */
  liveDocuments: number;
  /** Whether it stopped because `signal` aborted (before `count`). */
  aborted: boolean;
  seconds: number;
}

/** The oversize document's two fields: each ~4.6 MiB, the document ~9.2 MiB (under the 16 MiB limit). */
const OVERSIZE_FIELD_BYTES = 4_600_000;
const OVERSIZE_ID = 'oversize-1';

/** mulberry32: a small seeded PRNG, so the same seed gives the same writes (and documents: snapshot-seed, the bench's). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Id = number | string | ObjectId;

/** One collection's live documents, in insertion order (picked by index, so picks are deterministic). */
class LiveSet {
  readonly ids: Id[] = [];
  #next = 1;
  constructor(
    readonly name: string,
    private readonly kind: number,
    private readonly seed: number,
  ) {}

  newId(): Id {
    const n = this.#next++;
    if (this.kind === 0) return n;
    if (this.kind === 1) return `${this.name.slice(0, 1)}-${String(n).padStart(6, '0')}`;
    // A fixed ObjectId per (seed, collection, n): the same run writes the same ids.
    return new ObjectId((this.seed >>> 0).toString(16).padStart(8, '0') + String(this.kind).padStart(4, '0') + n.toString(16).padStart(12, '0'));
  }

  pick(random: () => number): Id {
    return this.ids[Math.floor(random() * this.ids.length)];
  }

  remove(id: Id): void {
    const i = this.ids.findIndex((x) => sameId(x, id));
    if (i >= 0) this.ids.splice(i, 1);
  }
}

const sameId = (a: Id, b: Id) => (a instanceof ObjectId && b instanceof ObjectId ? a.equals(b) : a === b);

/** Deterministic filler text (not one repeated character, so compression sees something like real data). */
export function filler(seed: number): (k: number, bytes: number) => string {
  const random = prng(seed ^ 0x5eed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
  const pool = Array.from({ length: 65_536 }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  return (k, bytes) => {
    let out = '';
    for (let at = (k * 7919) % pool.length; out.length < bytes; at = 0) out += pool.slice(at, at + bytes - out.length);
    return out;
  };
}

/** A document with every common BSON type, its values derived from `k` (deterministic). */
function document(id: Id, k: number, version: number, pad?: (doc: Document) => Document): Document {
  const doc: Document = { _id: id, ...typedFields(k, version, { low: new MinKey(), high: new MaxKey() }) };
  return pad ? pad(doc) : doc;
}

/** Fields of the common BSON types, their values derived from `k` (deterministic); `extra` after the timestamp. */
export function typedFields(k: number, version: number, extra: Document = {}): Document {
  return {
    version: new Int32(version),
    count: new Int32(k % 1000),
    // A double that holds an integer: must come back as a double, never as an int.
    price: new Double(k % 50),
    ratio: new Double((k % 97) / 7),
    total: Long.fromNumber(k * 1_000_003),
    amount: Decimal128.fromString(`${k}.${String(k % 100).padStart(2, '0')}`),
    at: new Date(Date.UTC(2026, 0, 1) + k * 1000),
    ref: new ObjectId(k.toString(16).padStart(24, '0')),
    bin: new Binary(Buffer.from(`bytes-${k}`), 0),
    ts: new Timestamp({ t: 1_767_225_600 + k, i: (k % 7) + 1 }),
    ...extra,
    tags: [`t${k % 5}`, `t${k % 3}`],
    nested: { grid: [[k, k + 1], [new Int32(k % 3)]], note: `document ${k}` },
  };
}

/** Writes the workload; resolves with what it did (also when `signal` aborts it). */
export async function runWorkload(o: WorkloadOptions): Promise<WorkloadReport> {
  const database = o.database ?? 'shop';
  const names = o.collections?.length ? o.collections : ['orders', 'customers', 'products'];
  const count = o.count ?? 0;
  const rate = o.rate ?? 0;
  const seed = o.seed ?? 1;
  const maxLive = o.maxLiveDocuments ?? 1000;
  const random = prng(seed);
  const client = o.client ?? new MongoClient(o.uri ?? '', { appName: 'runnel-workload-writer' });
  const own = o.client ? undefined : client;
  const t0 = performance.now();
  const report: WorkloadReport = {
    database,
    collections: names,
    events: 0,
    inserts: 0,
    updates: 0,
    replaces: 0,
    deletes: 0,
    racedUpdates: 0,
    oversizeEvents: 0,
    perCollection: Object.fromEntries(names.map((n) => [n, 0])),
    liveDocuments: 0,
    aborted: false,
    seconds: 0,
  };
  const live = names.map((n, i) => new LiveSet(n, i % 3, seed));
  const versions = new Map<string, number>();
  const versionKey = (c: LiveSet, id: Id) => `${c.name}|${String(id)}`;
  let k = 0; // document-content counter
  const documentBytes = o.documentBytes ?? 0;
  const text = documentBytes > 0 ? filler(seed) : undefined;
  const pad = text
    ? (doc: Document) => {
        const missing = documentBytes - BSON.calculateObjectSize(doc) - 16;
        return missing > 0 ? { ...doc, payload: text(k, missing) } : doc;
      }
    : undefined;

  const aborted = () => o.signal?.aborted === true;
  /** Waits until event number `n` (from 0) is due at `rate`; false when aborted meanwhile. */
  const due = async (n: number): Promise<boolean> => {
    if (aborted()) return false;
    if (rate <= 0) return true;
    const wait = t0 + (n * 1000) / rate - performance.now();
    if (wait > 0) await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done() {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', done);
        resolve();
      }
      o.signal?.addEventListener('abort', done, { once: true });
    });
    return !aborted();
  };
  const counted = (c: LiveSet, op: 'inserts' | 'updates' | 'replaces' | 'deletes') => {
    report[op]++;
    report.events++;
    report.perCollection[c.name]++;
  };
  const fail = (what: string, r: unknown) => {
    throw new Error(`workload writer: ${what} changed nothing (${JSON.stringify(r)}): the event count would be wrong`);
  };

  const insert = async (c: LiveSet) => {
    const id = c.newId();
    const r = await client.db(database).collection(c.name).insertOne(document(id, ++k, 1, pad));
    if (!r.acknowledged) fail('insert', r);
    c.ids.push(id);
    versions.set(versionKey(c, id), 1);
    counted(c, 'inserts');
  };
  const update = async (c: LiveSet, id: Id) => {
    const v = (versions.get(versionKey(c, id)) ?? 1) + 1;
    versions.set(versionKey(c, id), v);
    const n = ++k;
    // Operators by turn; $inc of `version` makes every update change the document.
    const ops: Document[] = [
      { $set: { version: new Int32(v), 'nested.note': `updated ${n}`, price: new Double(n % 40) }, $inc: { count: new Int32(1) } },
      { $set: { version: new Int32(v), [`extra_${n % 4}`]: Long.fromNumber(n) }, $push: { tags: `p${n % 9}` } },
      { $set: { version: new Int32(v), amount: Decimal128.fromString(`${n}.5`) }, $unset: { ratio: '' } },
    ];
    const r = await client.db(database).collection(c.name).updateOne({ _id: id } as Document, ops[n % ops.length]);
    if (r.modifiedCount !== 1) fail(`update of ${String(id)}`, r);
    counted(c, 'updates');
  };
  const replace = async (c: LiveSet, id: Id) => {
    const v = (versions.get(versionKey(c, id)) ?? 1) + 1;
    versions.set(versionKey(c, id), v);
    const { _id, ...body } = document(id, ++k, v, pad);
    void _id;
    const r = await client.db(database).collection(c.name).replaceOne({ _id: id } as Document, { ...body, replaced: true });
    if (r.modifiedCount !== 1) fail(`replace of ${String(id)}`, r);
    counted(c, 'replaces');
  };
  const remove = async (c: LiveSet, id: Id) => {
    const r = await client.db(database).collection(c.name).deleteOne({ _id: id } as Document);
    if (r.deletedCount !== 1) fail(`delete of ${String(id)}`, r);
    c.remove(id);
    versions.delete(versionKey(c, id));
    counted(c, 'deletes');
  };
  const oversize = async () => {
    const c = live[0];
    const coll = client.db(database).collection(c.name);
    await coll.insertOne({ _id: OVERSIZE_ID, a: 'a'.repeat(OVERSIZE_FIELD_BYTES), b: 'b'.repeat(OVERSIZE_FIELD_BYTES), version: new Int32(1) } as Document);
    counted(c, 'inserts');
    // updateDescription (~9.2 MiB) + fullDocument (~9.2 MiB): the event is ~18.4 MiB.
    const r = await coll.updateOne({ _id: OVERSIZE_ID } as Document, { $set: { a: 'c'.repeat(OVERSIZE_FIELD_BYTES), b: 'd'.repeat(OVERSIZE_FIELD_BYTES), version: new Int32(2) } });
    if (r.modifiedCount !== 1) fail('oversize update', r);
    counted(c, 'updates');
    report.oversizeEvents++;
  };

  const oversizeAt = o.oversizeEvent ? (count > 0 ? Math.floor(count / 2) : 100) : -1;
  const room = () => (count > 0 ? count - report.events : Number.POSITIVE_INFINITY);
  try {
    await client.connect();
    while (room() > 0 && (await due(report.events))) {
      if (report.oversizeEvents === 0 && oversizeAt >= 0 && report.events >= oversizeAt && room() >= 2) {
        await oversize();
        continue;
      }
      const c = live[Math.floor(random() * live.length)];
      const roll = random();
      if (c.ids.length === 0 || (roll < 0.3 && c.ids.length < maxLive)) {
        await insert(c);
      } else if (roll < 0.3 || roll >= 0.9) {
        await remove(c, c.pick(random));
      } else if (roll < 0.6) {
        await update(c, c.pick(random));
      } else if (roll < 0.7 && room() >= 2) {
        // Two writes back to back: the first event's lookup finds the second version.
        const id = c.pick(random);
        await update(c, id);
        await update(c, id);
        report.racedUpdates++;
      } else if (roll < 0.75 && room() >= 2) {
        // Update then delete: the update event's lookup finds nothing (null).
        const id = c.pick(random);
        await update(c, id);
        await remove(c, id);
        report.racedUpdates++;
      } else {
        await replace(c, c.pick(random));
      }
    }
  } finally {
    report.aborted = aborted() && room() > 0;
    report.liveDocuments = live.reduce((s, c) => s + c.ids.length, 0) + (report.oversizeEvents ? 1 : 0);
    report.seconds = (performance.now() - t0) / 1000;
    await own?.close().catch(() => undefined);
  }
  return report;
}

export function describeWorkload(r: WorkloadReport): string {
  return (
    `${r.events} change events in ${r.database}.{${r.collections.join(',')}} in ${r.seconds.toFixed(1)} s: ${r.inserts} inserts, ${r.updates} updates ` +
    `(${r.racedUpdates} raced by a second write), ${r.replaces} replaces, ${r.deletes} deletes, ${r.oversizeEvents} above 16 MiB; ${r.liveDocuments} documents left`
  );
}
