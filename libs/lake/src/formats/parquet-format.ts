import { type DataType, Int64, Table, tableFromIPC, tableToIPC, TimestampMillisecond, Utf8, type Vector, vectorFromArray } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { type ChangeEnvelope, ENVELOPE_FIELDS } from '../change-envelope';

const TIMESTAMPS = ['event_time', 'wall_time'] as const;
const INTEGERS = ['cluster_time_increment', 'generation', 'seq'] as const;
/** Every other envelope field is text (UTF-8): the fields are listed once, in change-envelope.ts. */
const TEXT = ENVELOPE_FIELDS.filter(
  (f): f is Exclude<keyof ChangeEnvelope, (typeof TIMESTAMPS)[number] | (typeof INTEGERS)[number] | 'txn_number'> =>
    !(TIMESTAMPS as readonly string[]).includes(f) && !(INTEGERS as readonly string[]).includes(f) && f !== 'txn_number',
);

/**
 * A timestamp with a time zone: Parquet's TIMESTAMP(MILLIS, isAdjustedToUTC=true), an instant.
 * Without one it is a "local" timestamp (isAdjustedToUTC=false) that readers show in no zone, or
 * shift by the reader's own (Spark, Athena), and an instant is what both columns are.
 */
const utcMillis = () => new TimestampMillisecond('UTC');
const isoToMillis = (iso: string | null) => (iso === null ? null : Date.parse(iso));
const millisToIso = (ms: unknown) => new Date(Number(ms)).toISOString();

/**
 * Parquet with typed envelope columns: text fields as UTF-8 (documents as Extended JSON text, so a
 * schema change in the documents never changes the file schema), `event_time` and `wall_time` as
 * UTC millisecond timestamps, `cluster_time_increment`, `generation`, `seq` and `txn_number` as
 * 64-bit integers. Pages compressed with zstd or gzip inside the file.
 */
export function encodeParquet(events: ChangeEnvelope[], compression: 'none' | 'gzip' | 'zstd'): Buffer {
  const columns: Record<string, Vector<DataType>> = {};
  for (const f of TEXT) columns[f] = vectorFromArray(events.map((e) => e[f]), new Utf8());
  for (const f of TIMESTAMPS) columns[f] = vectorFromArray(events.map((e) => isoToMillis(e[f])), utcMillis());
  for (const f of INTEGERS) columns[f] = vectorFromArray(events.map((e) => BigInt(e[f])), new Int64());
  columns.txn_number = vectorFromArray(events.map((e) => (e.txn_number === null ? null : BigInt(e.txn_number))), new Int64());
  // Columns in envelope order, the same order as JSONL's fields and CSV's header.
  const ordered = new Table(Object.fromEntries(ENVELOPE_FIELDS.map((f) => [f, columns[f]])));
  const codec = { none: parquet.Compression.UNCOMPRESSED, gzip: parquet.Compression.GZIP, zstd: parquet.Compression.ZSTD }[compression];
  const props = new parquet.WriterPropertiesBuilder().setCompression(codec).setCreatedBy('runnel').build();
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(ordered, 'stream'));
  return Buffer.from(parquet.writeParquet(wasmTable, props));
}

const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set(TIMESTAMPS);
const INTEGER_COLUMNS: ReadonlySet<string> = new Set(INTEGERS);

function fromColumn(field: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (TIMESTAMP_COLUMNS.has(field)) return millisToIso(v);
  if (INTEGER_COLUMNS.has(field)) return Number(v);
  if (field === 'txn_number') return String(v);
  return v;
}

/**
 * Reads a Parquet object back into envelopes (the verifier and the tests). Columns the file does
 * not have (an object from an older writer) are left out; decodeObject completes those envelopes.
 */
export function decodeParquet(body: Buffer): ChangeEnvelope[] {
  const table = tableFromIPC(parquet.readParquet(new Uint8Array(body)).intoIPCStream());
  const present = ENVELOPE_FIELDS.filter((f) => table.schema.fields.some((c) => c.name === f));
  const out: ChangeEnvelope[] = [];
  for (const row of table) {
    const r = row.toJSON() as Record<string, unknown>;
    const e: Record<string, unknown> = {};
    for (const f of present) e[f] = fromColumn(f, r[f]);
    out.push(e as unknown as ChangeEnvelope);
  }
  return out;
}
