import {
  Binary,
  BSON,
  BSONRegExp,
  Code,
  Decimal128,
  Double,
  EJSON,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
} from 'bson';
import { COMPRESSIONS, decodeObject, encodeObject, FORMATS } from '@runnel/lake';
import { clusterSeconds, clusterTimeText, MalformedChangeError, toEnvelope } from './change-envelope-mapper';
import type { SourceChange } from './sources/change-source';

const SECONDS = Date.UTC(2026, 10, 21, 22, 15, 0) / 1000;
const token = { _data: '8200' };

/**
 * A document with every BSON type, as the driver hands it over when it keeps BSON number types
 * (promoteValues: false, bsonRegExp: true): serialized to BSON bytes and deserialized the way the
 * driver deserializes a change event, so the mapper sees bson Double / Int32 / Long objects.
 */
const original = {
  _id: new ObjectId('6561a1b2c3d4e5f601234567'),
  int32: new Int32(5),
  int64: Long.fromString('9007199254740993'),
  double: new Double(5.0),
  negativeZero: new Double(-0),
  nan: new Double(NaN),
  infinity: new Double(Infinity),
  minusInfinity: new Double(-Infinity),
  fraction: new Double(0.1),
  decimal: Decimal128.fromString('12.3400'),
  before1970: new Date(Date.UTC(1901, 0, 1, 0, 0, 0, 1)),
  farFuture: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)),
  binary: new Binary(Buffer.from([0, 1, 2, 255]), 0),
  uuid: new Binary(Buffer.alloc(16, 7), 4),
  md5: new Binary(Buffer.alloc(16, 9), 5),
  userDefined: new Binary(Buffer.from('u'), 0x80),
  timestamp: new Timestamp({ t: SECONDS, i: 7 }),
  min: new MinKey(),
  max: new MaxKey(),
  regex: new BSONRegExp('^a.*b$', 'imsx'),
  code: new Code('function () { return 1; }'),
  text: 'comma, "quote"\nnewline',
  empty: '',
  nothing: null,
  yes: true,
  nested: [new Int32(1), [new Double(2), Long.fromNumber(3)], { deep: { d: new Double(1.5), list: [] as unknown[] } }],
};
const bytes = BSON.serialize(original);
const driverDoc = (): Record<string, unknown> => BSON.deserialize(bytes, { promoteValues: false, bsonRegExp: true });

function change(over: Partial<SourceChange> & Record<string, unknown> = {}): SourceChange {
  return {
    _id: token,
    operationType: 'insert',
    ns: { db: 'shop', coll: 'orders' },
    documentKey: { _id: driverDoc()._id },
    fullDocument: driverDoc(),
    clusterTime: new Timestamp({ t: SECONDS, i: 10 }),
    wallTime: new Date(SECONDS * 1000 + 123),
    txnNumber: Long.fromString('9007199254740993'),
    lsid: { id: new Binary(Buffer.alloc(16, 1), 4) },
    ...over,
  } as SourceChange;
}

describe('toEnvelope', () => {
  it('fills every envelope field, in envelope order', () => {
    const e = toEnvelope(change(), 'shop', 2, 41);
    expect(Object.keys(e)).toEqual([
      'operation', 'database', 'collection', 'document_key', 'full_document', 'full_document_before_change', 'update_description',
      'operation_description', 'to_namespace', 'cluster_time', 'event_time', 'cluster_time_increment', 'wall_time', 'txn_number', 'lsid',
      'stream', 'generation', 'seq',
    ]);
    expect(e).toMatchObject({
      operation: 'insert',
      database: 'shop',
      collection: 'orders',
      document_key: '{"_id":{"$oid":"6561a1b2c3d4e5f601234567"}}',
      full_document_before_change: null,
      update_description: null,
      operation_description: null,
      to_namespace: null,
      cluster_time: `${SECONDS}.10`,
      event_time: '2026-11-21T22:15:00.000Z',
      cluster_time_increment: 10,
      wall_time: '2026-11-21T22:15:00.123Z',
      txn_number: '9007199254740993',
      lsid: '{"id":{"$binary":{"base64":"AQEBAQEBAQEBAQEBAQEBAQ==","subType":"04"}}}',
      stream: 'shop',
      generation: 2,
      seq: 41,
    });
  });

  it('the increment is a number, so events of one second sort: .9 before .10', () => {
    const nine = toEnvelope(change({ clusterTime: new Timestamp({ t: SECONDS, i: 9 }) }), 's', 1, 1);
    const ten = toEnvelope(change({ clusterTime: new Timestamp({ t: SECONDS, i: 10 }) }), 's', 1, 2);
    expect(nine.cluster_time > ten.cluster_time).toBe(true); // the exact text, kept as it was, does not sort
    const sorted = [ten, nine].sort((a, b) => a.event_time.localeCompare(b.event_time) || a.cluster_time_increment - b.cluster_time_increment);
    expect(sorted.map((e) => e.seq)).toEqual([1, 2]);
    // The largest increment (2^32-1) stays an unsigned integer.
    expect(toEnvelope(change({ clusterTime: new Timestamp({ t: SECONDS, i: 0xffffffff }) }), 's', 1, 3).cluster_time_increment).toBe(4294967295);
  });

  it('event_time is the cluster time\'s second in UTC, whatever second came before', () => {
    const at = (t: number) => toEnvelope(change({ clusterTime: new Timestamp({ t, i: 1 }) }), 's', 1, 1).event_time;
    expect([at(SECONDS), at(SECONDS + 1), at(SECONDS), at(0), at(0xffffffff)]).toEqual([
      '2026-11-21T22:15:00.000Z', '2026-11-21T22:15:01.000Z', '2026-11-21T22:15:00.000Z', '1970-01-01T00:00:00.000Z', '2106-02-07T06:28:15.000Z',
    ]);
  });

  it('dropDatabase has no collection: null, never an empty string', () => {
    const e = toEnvelope(change({ operationType: 'dropDatabase', ns: { db: 'shop' }, documentKey: undefined, fullDocument: undefined }), 'shop', 1, 7);
    expect(e.collection).toBeNull();
    expect(e).toMatchObject({ operation: 'dropDatabase', database: 'shop', document_key: null, full_document: null, to_namespace: null });
  });

  it('rename keeps its target as to_namespace "db.coll"', () => {
    const e = toEnvelope(change({ operationType: 'rename', ns: { db: 'shop', coll: 'orders' }, to: { db: 'archive', coll: 'orders_2026' }, documentKey: undefined, fullDocument: undefined }), 'shop', 1, 8);
    expect(e).toMatchObject({ operation: 'rename', database: 'shop', collection: 'orders', to_namespace: 'archive.orders_2026' });
  });

  it('operationDescription (showExpandedEvents) is kept as canonical EJSON', () => {
    const description = { indexes: [{ v: new Int32(2), key: { sku: new Int32(1) }, name: 'sku_1', expireAfterSeconds: new Double(60) }] };
    const e = toEnvelope(change({ operationType: 'createIndexes', operationDescription: description, documentKey: undefined, fullDocument: undefined }), 'shop', 1, 9);
    expect(e.operation_description).toBe('{"indexes":[{"v":{"$numberInt":"2"},"key":{"sku":{"$numberInt":"1"}},"name":"sku_1","expireAfterSeconds":{"$numberDouble":"60.0"}}]}');
  });

  it('a double stays a double: canonical {"$numberDouble":"5.0"}, not $numberInt', () => {
    const e = toEnvelope(change(), 'shop', 1, 1);
    expect(e.full_document).toContain('"double":{"$numberDouble":"5.0"}');
    expect(e.full_document).toContain('"negativeZero":{"$numberDouble":"-0.0"}');
    expect(e.full_document).toContain('"int32":{"$numberInt":"5"}');
    expect(e.full_document).toContain('"int64":{"$numberLong":"9007199254740993"}');
  });

  // Why the source must keep BSON number types (promoteValues: false): once the driver has made
  // the JS number 5 of a double, nothing tells it from an int, and canonical EJSON says int.
  it('(a double already promoted to a JS number cannot be told from an int)', () => {
    const promoted = BSON.deserialize(BSON.serialize({ _id: 1, d: new Double(5) }));
    expect(toEnvelope(change({ fullDocument: promoted }), 's', 1, 1).full_document).toBe('{"_id":{"$numberInt":"1"},"d":{"$numberInt":"5"}}');
  });

  it('a wall time outside the JavaScript Date range is null, not a crash', () => {
    expect(toEnvelope(change({ wallTime: new Date(NaN) }), 's', 1, 1).wall_time).toBeNull();
  });

  it('refuses events it cannot place', () => {
    expect(() => toEnvelope(change({ ns: undefined }), 's', 1, 1)).toThrow(MalformedChangeError);
    expect(() => toEnvelope(change({ clusterTime: undefined }), 's', 1, 1)).toThrow(MalformedChangeError);
  });

  it('clusterTimeText and clusterSeconds read each other', () => {
    expect(clusterTimeText(new Timestamp({ t: SECONDS, i: 10 }))).toBe(`${SECONDS}.10`);
    expect(clusterSeconds(`${SECONDS}.10`)).toBe(SECONDS);
  });
});

describe.each(FORMATS.flatMap((f) => COMPRESSIONS.map((c) => [f, c] as const)))('every BSON type through the mapper and %s + %s', (format, compression) => {
  it('comes back as equal BSON: same types, same bytes', () => {
    const envelopes = [
      toEnvelope(change(), 'shop', 1, 1),
      toEnvelope(change({ operationType: 'dropDatabase', ns: { db: 'shop' }, documentKey: undefined, fullDocument: undefined, wallTime: undefined, txnNumber: undefined, lsid: undefined }), 'shop', 1, 2),
    ];
    const encoded = encodeObject(envelopes, format, compression);
    const back = decodeObject(encoded.body, encoded.extension);
    expect(back).toStrictEqual(envelopes);

    const restored = EJSON.parse(back[0].full_document!, { relaxed: false }) as Record<string, unknown>;
    // Byte-equal BSON: every value has the type and the value it had in MongoDB.
    expect(Buffer.from(BSON.serialize(restored)).equals(Buffer.from(bytes))).toBe(true);
    expect(restored.double).toBeInstanceOf(Double);
    expect((restored.double as Double).value).toBe(5);
    expect(Object.is((restored.negativeZero as Double).value, -0)).toBe(true);
    expect((restored.nan as Double).value).toBeNaN();
    expect(restored.int32).toBeInstanceOf(Int32);
    expect(restored.int64).toBeInstanceOf(Long);
    expect(restored.decimal).toBeInstanceOf(Decimal128);
    expect((restored.before1970 as Date).toISOString()).toBe('1901-01-01T00:00:00.001Z');
    expect((restored.farFuture as Date).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    expect((restored.uuid as Binary).sub_type).toBe(4);
    expect((restored.userDefined as Binary).sub_type).toBe(0x80);
    expect(restored.timestamp).toBeInstanceOf(Timestamp);
    expect(restored.min).toBeInstanceOf(MinKey);
    expect(restored.max).toBeInstanceOf(MaxKey);
    expect(restored.regex).toEqual(new BSONRegExp('^a.*b$', 'imsx'));
    const nested = restored.nested as [Int32, [Double, Long], { deep: { d: Double } }];
    expect(nested[1][0]).toBeInstanceOf(Double);
    expect(nested[2].deep.d).toBeInstanceOf(Double);
    expect(back[1].collection).toBeNull();
  });
});
