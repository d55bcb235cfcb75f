import { type DataType, Int64, Table, tableFromIPC, tableToIPC, TimestampMillisecond, Utf8, type Vector, vectorFromArray } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { type ChangeEnvelope, ENVELOPE_FIELDS } from '../change-envelope';

const TEXT = ['operation', 'database', 'collection', 'document_key', 'full_document', 'full_document_before_change', 'update_description', 'cluster_time', 'lsid', 'stream'] as const;

/**
 * Parquet with typed envelope columns: text fields as UTF-8 (documents as Extended JSON text, so a
 * schema change in the documents never changes the file schema), `wall_time` as a millisecond
 * timestamp, `txn_number` and `seq` as 64-bit integers. Pages compressed with zstd or gzip inside
 * the file.
 */
export function encodeParquet(events: ChangeEnvelope[], compression: 'none' | 'gzip' | 'zstd'): Buffer {
  const columns: Record<string, Vector<DataType>> = {};
  for (const f of TEXT) columns[f] = vectorFromArray(events.map((e) => e[f]), new Utf8());
  columns.wall_time = vectorFromArray(events.map((e) => (e.wall_time === null ? null : Date.parse(e.wall_time))), new TimestampMillisecond());
  columns.txn_number = vectorFromArray(events.map((e) => (e.txn_number === null ? null : BigInt(e.txn_number))), new Int64());
  columns.seq = vectorFromArray(events.map((e) => BigInt(e.seq)), new Int64());
  // Columns in envelope order, the same order as JSONL's fields and CSV's header.
  const ordered = new Table(Object.fromEntries(ENVELOPE_FIELDS.map((f) => [f, columns[f]])));
  const codec = { none: parquet.Compression.UNCOMPRESSED, gzip: parquet.Compression.GZIP, zstd: parquet.Compression.ZSTD }[compression];
  const props = new parquet.WriterPropertiesBuilder().setCompression(codec).setCreatedBy('runnel').build();
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(ordered, 'stream'));
  return Buffer.from(parquet.writeParquet(wasmTable, props));
}

/** Reads a Parquet object back into envelopes (the verifier and the tests). */
export function decodeParquet(body: Buffer): ChangeEnvelope[] {
  const table = tableFromIPC(parquet.readParquet(new Uint8Array(body)).intoIPCStream());
  const out: ChangeEnvelope[] = [];
  for (const row of table) {
    const r = row.toJSON() as Record<string, unknown>;
    const wall = r.wall_time;
    out.push({
      operation: r.operation as string,
      database: r.database as string,
      collection: r.collection as string,
      document_key: (r.document_key as string | null) ?? null,
      full_document: (r.full_document as string | null) ?? null,
      full_document_before_change: (r.full_document_before_change as string | null) ?? null,
      update_description: (r.update_description as string | null) ?? null,
      cluster_time: r.cluster_time as string,
      wall_time: wall === null || wall === undefined ? null : new Date(Number(wall)).toISOString(),
      txn_number: r.txn_number === null || r.txn_number === undefined ? null : String(r.txn_number),
      lsid: (r.lsid as string | null) ?? null,
      stream: r.stream as string,
      seq: Number(r.seq),
    });
  }
  return out;
}
