import { EJSON, Binary, Decimal128, Long, ObjectId } from 'bson';
import type { ChangeEnvelope } from '../change-envelope';
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
  empty: '',
};
const ej = (v: unknown) => EJSON.stringify(v, { relaxed: false });

function events(): ChangeEnvelope[] {
  return [
    {
      operation: 'insert', database: 'shop', collection: 'orders', document_key: ej({ _id: doc._id }), full_document: ej(doc),
      full_document_before_change: null, update_description: null, cluster_time: '1763763300.1', wall_time: '2026-11-21T22:15:00.123Z',
      txn_number: '9007199254740993', lsid: ej({ id: new Binary(Buffer.alloc(16, 7), 4) }), stream: 'shop', seq: 1,
    },
    {
      operation: 'update', database: 'shop', collection: 'orders', document_key: ej({ _id: doc._id }), full_document: null,
      full_document_before_change: ej({ ...doc, count: Long.fromNumber(1) }), update_description: ej({ updatedFields: { count: Long.fromNumber(2) }, removedFields: ['x'] }),
      cluster_time: '1763763300.2', wall_time: null, txn_number: null, lsid: null, stream: 'shop', seq: 2,
    },
    {
      operation: 'delete', database: 'shop', collection: 'orders', document_key: ej({ _id: 'plain-string-id' }), full_document: null,
      full_document_before_change: null, update_description: null, cluster_time: '1763763301.1', wall_time: '2026-11-21T22:15:01.000Z',
      txn_number: null, lsid: null, stream: 'shop', seq: 3,
    },
  ];
}

describe.each(FORMATS.flatMap((f) => COMPRESSIONS.map((c) => [f, c] as const)))('%s + %s', (format, compression) => {
  it('round-trips every field, BSON types included', () => {
    const input = events();
    const encoded = encodeObject(input, format, compression);
    const back = decodeObject(encoded.body, encoded.extension);
    expect(back).toEqual(input);
    const restored = EJSON.parse(back[0].full_document!, { relaxed: false }) as typeof doc;
    expect(restored._id).toBeInstanceOf(ObjectId);
    expect(restored._id.toHexString()).toBe(doc._id.toHexString());
    expect(restored.at.toISOString()).toBe(doc.at.toISOString());
    expect(restored.price.toString()).toBe('12.3400');
    expect(restored.count.toString()).toBe('9007199254740993');
    expect(Buffer.from(restored.blob.buffer)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(restored.text).toBe(doc.text);
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
    expect(types).toMatchObject({ operation: 'Utf8', full_document: 'Utf8', wall_time: 'Timestamp<MILLISECOND>', txn_number: 'Int64', seq: 'Int64' });
    expect(table.getChild('seq')!.toArray()).toEqual(new BigInt64Array([1n, 2n, 3n]));
    expect(table.getChild('operation')!.toArray()).toEqual(['insert', 'update', 'delete']);
    expect(table.getChild('txn_number')!.get(0)).toBe(9007199254740993n);
    expect(table.getChild('txn_number')!.get(1)).toBeNull();
    expect(decodeParquet(body)).toEqual(events());
  });
});
