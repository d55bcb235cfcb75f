import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { EJSON, Binary, Decimal128, Double, Long, ObjectId } from 'bson';
import { type ChangeEnvelope, ENVELOPE_FIELDS } from '../change-envelope';
import { decodeObject, encodeObject } from './object-codec';
import { COMPRESSIONS, FORMATS } from './object-format';
import { decodeParquet } from './parquet-format';

const doc = {
  _id: new ObjectId('6561a1b2c3d4e5f601234567'),
  at: new Date('2026-11-21T22:15:00.123Z'),
  price: Decimal128.fromString('12.3400'),
  count: Long.fromString('9007199254740993'),
  blob: new Binary(Buffer.from([0, 1, 2, 255]), 0),
  text: 'comma, "quote"\nnewline',
  ratio: new Double(5),
  empty: '',
};
const ej = (v: unknown) => EJSON.stringify(v, { relaxed: false });

function events(): ChangeEnvelope[] {
  return [
    {
      operation: 'insert', database: 'shop', collection: 'orders', document_key: ej({ _id: doc._id }), full_document: ej(doc),
      full_document_before_change: null, update_description: null, operation_description: null, to_namespace: null,
      cluster_time: '1763763300.9', event_time: '2025-11-21T22:15:00.000Z', cluster_time_increment: 9, wall_time: '2026-11-21T22:15:00.123Z',
      txn_number: '9007199254740993', lsid: ej({ id: new Binary(Buffer.alloc(16, 7), 4) }), stream: 'shop', generation: 2, seq: 1,
    },
    {
      operation: 'update', database: 'shop', collection: 'orders', document_key: ej({ _id: doc._id }), full_document: null,
      full_document_before_change: ej({ ...doc, count: Long.fromNumber(1) }), update_description: ej({ updatedFields: { count: Long.fromNumber(2) }, removedFields: ['x'] }),
      operation_description: null, to_namespace: null,
      cluster_time: '1763763300.10', event_time: '2025-11-21T22:15:00.000Z', cluster_time_increment: 10, wall_time: null, txn_number: null, lsid: null, stream: 'shop', generation: 2, seq: 2,
    },
    {
      operation: 'delete', database: 'shop', collection: 'orders', document_key: ej({ _id: 'plain-string-id' }), full_document: null,
      full_document_before_change: null, update_description: null, operation_description: null, to_namespace: null,
      cluster_time: '1763763301.1', event_time: '2025-11-21T22:15:01.000Z', cluster_time_increment: 1, wall_time: '2026-11-21T22:15:01.000Z',
      txn_number: null, lsid: null, stream: 'shop', generation: 2, seq: 3,
    },
    {
      operation: 'rename', database: 'shop', collection: 'orders', document_key: null, full_document: null,
      full_document_before_change: null, update_description: null, operation_description: ej({ to: { db: 'shop', coll: 'orders_old' } }), to_namespace: 'shop.orders_old',
      cluster_time: '1763763302.4294967295', event_time: '2025-11-21T22:15:02.000Z', cluster_time_increment: 4294967295, wall_time: '1969-07-20T20:17:40.000Z',
      txn_number: null, lsid: null, stream: 'shop', generation: 2, seq: 4,
    },
    {
      operation: 'dropDatabase', database: 'shop', collection: null, document_key: null, full_document: null,
      full_document_before_change: null, update_description: null, operation_description: null, to_namespace: null,
      cluster_time: '1763763303.1', event_time: '2025-11-21T22:15:03.000Z', cluster_time_increment: 1, wall_time: '2025-11-21T22:15:03.999Z',
      txn_number: null, lsid: null, stream: 'shop', generation: 2, seq: 5,
    },
  ];
}

describe.each(FORMATS.flatMap((f) => COMPRESSIONS.map((c) => [f, c] as const)))('%s + %s', (format, compression) => {
  it('round-trips every field, BSON types included', () => {
    const input = events();
    const encoded = encodeObject(input, format, compression);
    const back = decodeObject(encoded.body, encoded.extension);
    expect(back).toStrictEqual(input);
    const restored = EJSON.parse(back[0].full_document!, { relaxed: false }) as typeof doc;
    expect(restored._id).toBeInstanceOf(ObjectId);
    expect(restored._id.toHexString()).toBe(doc._id.toHexString());
    expect(restored.at.toISOString()).toBe(doc.at.toISOString());
    expect(restored.price.toString()).toBe('12.3400');
    expect(restored.count.toString()).toBe('9007199254740993');
    expect(Buffer.from(restored.blob.buffer)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(restored.text).toBe(doc.text);
    expect(restored.ratio).toBeInstanceOf(Double);
    expect(back[4].collection).toBeNull();
    expect(typeof back[3].cluster_time_increment).toBe('number');
  });

  it('jsonl/csv fields, and Parquet columns, are in envelope order', async () => {
    const encoded = encodeObject(events(), format, compression);
    if (format === 'jsonl') {
      const first = decodeObject(encoded.body, encoded.extension)[0];
      expect(Object.keys(first)).toEqual(ENVELOPE_FIELDS);
    } else if (format === 'csv') {
      const raw = compression === 'none' ? encoded.body : compression === 'gzip' ? gunzipSync(encoded.body) : zstdDecompressSync(encoded.body);
      expect(raw.toString('utf8').split('\n')[0]).toBe(ENVELOPE_FIELDS.join(','));
    } else {
      const { tableFromIPC } = await import('apache-arrow');
      const parquet = await import('parquet-wasm');
      const table = tableFromIPC(parquet.readParquet(new Uint8Array(encoded.body)).intoIPCStream());
      expect(table.schema.fields.map((f) => f.name)).toEqual(ENVELOPE_FIELDS);
    }
  });

  it('is deterministic: the same batch encodes to the same bytes', () => {
    expect(encodeObject(events(), format, compression).body.equals(encodeObject(events(), format, compression).body)).toBe(true);
  });
});

describe('encodings', () => {
  it('compression is real: gzip and zstd bodies start with their magic numbers and are smaller on repetitive data', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ ...events()[0], seq: i + 1 }));
    const plain = encodeObject(many, 'jsonl', 'none').body;
    const gz = encodeObject(many, 'jsonl', 'gzip');
    const zst = encodeObject(many, 'jsonl', 'zstd');
    expect(gz.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(zst.body.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    expect(gz.body.length).toBeLessThan(plain.length / 5);
    expect(zst.body.length).toBeLessThan(plain.length / 5);
    expect([gz.extension, zst.extension, gz.contentEncoding, zst.contentEncoding]).toEqual(['jsonl.gz', 'jsonl.zst', 'gzip', 'zstd']);
  });

  it('csv keeps null and empty string apart', () => {
    const e = { ...events()[2], full_document: '' };
    const back = decodeObject(encodeObject([e], 'csv', 'none').body, 'csv');
    expect(back[0].full_document).toBe('');
    expect(back[0].full_document_before_change).toBeNull();
  });

  it('parquet columns are typed, and checked column by column', async () => {
    const { tableFromIPC } = await import('apache-arrow');
    const parquet = await import('parquet-wasm');
    const body = encodeObject(events(), 'parquet', 'zstd').body;
    expect(body.subarray(0, 4).toString()).toBe('PAR1');
    const table = tableFromIPC(parquet.readParquet(new Uint8Array(body)).intoIPCStream());
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({
      operation: 'Utf8', collection: 'Utf8', full_document: 'Utf8', operation_description: 'Utf8', to_namespace: 'Utf8', cluster_time: 'Utf8',
      event_time: 'Timestamp<MILLISECOND, UTC>', wall_time: 'Timestamp<MILLISECOND, UTC>',
      cluster_time_increment: 'Int64', txn_number: 'Int64', generation: 'Int64', seq: 'Int64',
    });
    expect(table.getChild('seq')!.toArray()).toEqual(new BigInt64Array([1n, 2n, 3n, 4n, 5n]));
    expect(table.getChild('generation')!.toArray()).toEqual(new BigInt64Array([2n, 2n, 2n, 2n, 2n]));
    expect(table.getChild('cluster_time_increment')!.get(3)).toBe(4294967295n);
    expect(table.getChild('operation')!.toArray()).toEqual(['insert', 'update', 'delete', 'rename', 'dropDatabase']);
    expect(table.getChild('collection')!.get(4)).toBeNull();
    expect(table.getChild('txn_number')!.get(0)).toBe(9007199254740993n);
    expect(table.getChild('txn_number')!.get(1)).toBeNull();
    expect(decodeParquet(body)).toEqual(events());
  });

  it('csv numbers are decimal text and read back as numbers', () => {
    const text = encodeObject(events(), 'csv', 'none').body.toString('utf8');
    expect(text.split('\n')[4]).toContain(',4294967295,');
    const back = decodeObject(Buffer.from(text), 'csv');
    expect(back.map((e) => [e.cluster_time_increment, e.generation, e.seq])).toEqual([[9, 2, 1], [10, 2, 2], [1, 2, 3], [4294967295, 2, 4], [1, 2, 5]]);
  });
});

describe('objects written before generations and typed event times', () => {
  // The envelope as it was: no operation_description, to_namespace, event_time,
  // cluster_time_increment, generation; '' as a database-level event's collection.
  const old = [
    { operation: 'insert', database: 'shop', collection: 'orders', document_key: '{"_id":1}', full_document: '{"_id":1}', full_document_before_change: null, update_description: null, cluster_time: '1763763300.10', wall_time: null, txn_number: null, lsid: null, stream: 'shop', seq: 1 },
    { operation: 'dropDatabase', database: 'shop', collection: '', document_key: null, full_document: null, full_document_before_change: null, update_description: null, cluster_time: '1763763301.2', wall_time: null, txn_number: null, lsid: null, stream: 'shop', seq: 2 },
  ];
  const completed = [
    { ...old[0], operation_description: null, to_namespace: null, event_time: '2025-11-21T22:15:00.000Z', cluster_time_increment: 10, generation: 1 },
    { ...old[1], collection: null, operation_description: null, to_namespace: null, event_time: '2025-11-21T22:15:01.000Z', cluster_time_increment: 2, generation: 1 },
  ];

  it('jsonl and csv come back completed: generation 1, event time from the cluster time, collection null', () => {
    const jsonl = Buffer.from(old.map((e) => `${JSON.stringify(e)}\n`).join(''));
    expect(decodeObject(jsonl, 'jsonl')).toEqual(completed);
    const header = Object.keys(old[0]);
    const csv = Buffer.from(`${header.join(',')}\n${old.map((e) => header.map((h) => { const v = (e as Record<string, unknown>)[h]; return v === null ? '' : v === '' ? '""' : /[,"\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v); }).join(',')).join('\n')}\n`);
    expect(decodeObject(csv, 'csv')).toEqual(completed);
    expect(Object.keys(decodeObject(jsonl, 'jsonl')[0])).toEqual(ENVELOPE_FIELDS);
  });

  it('parquet (the old columns, wall_time without a zone) comes back completed too', async () => {
    const { Int64, Table, tableToIPC, TimestampMillisecond, Utf8, vectorFromArray } = await import('apache-arrow');
    type AnyVector = import('apache-arrow').Vector<import('apache-arrow').DataType>;
    const parquet = await import('parquet-wasm');
    const columns: Record<string, AnyVector> = {};
    for (const f of ['operation', 'database', 'collection', 'document_key', 'full_document', 'full_document_before_change', 'update_description', 'cluster_time'] as const) columns[f] = vectorFromArray(old.map((e) => e[f]), new Utf8());
    columns.wall_time = vectorFromArray(old.map(() => null), new TimestampMillisecond());
    columns.txn_number = vectorFromArray(old.map(() => null), new Int64());
    columns.lsid = vectorFromArray(old.map(() => null), new Utf8());
    columns.stream = vectorFromArray(old.map((e) => e.stream), new Utf8());
    columns.seq = vectorFromArray(old.map((e) => BigInt(e.seq)), new Int64());
    const body = Buffer.from(parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(new Table(columns), 'stream'))));
    expect(decodeObject(body, 'parquet')).toEqual(completed);
  });
});
