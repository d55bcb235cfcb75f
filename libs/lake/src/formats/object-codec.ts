import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { type ChangeEnvelope, upgradeEnvelope } from '../change-envelope';
import { decodeCsv, encodeCsv } from './csv-format';
import { decodeJsonl, encodeJsonl } from './jsonl-format';
import { type Compression, type EncodedObject, extensionFor, type ObjectFormat, parseExtension } from './object-format';
import { decodeParquet, encodeParquet } from './parquet-format';

const CONTENT_TYPES: Record<ObjectFormat, string> = {
  jsonl: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
};

/**
 * One batch to one object body. Deterministic: the same events give the same bytes (gzip's header
 * carries no timestamp from Node, zstd and Parquet none), which is what lets a replayed batch be
 * recognised as already stored.
 */
export function encodeObject(events: ChangeEnvelope[], format: ObjectFormat, compression: Compression): EncodedObject {
  if (format === 'parquet') return { body: encodeParquet(events, compression), extension: extensionFor(format, compression), contentType: CONTENT_TYPES[format] };
  return compressed(format === 'jsonl' ? encodeJsonl(events) : encodeCsv(events), format, compression);
}

/**
 * A JSONL object from bytes that are already JSONL (jsonlLine per event, as change-reader hands
 * batches on): compressed as they are, the same bytes encodeObject gives for the parsed events.
 */
export function encodeJsonlBody(jsonl: Buffer, compression: Compression): EncodedObject {
  return compressed(jsonl, 'jsonl', compression);
}

function compressed(raw: Buffer, format: 'jsonl' | 'csv', compression: Compression): EncodedObject {
  const extension = extensionFor(format, compression);
  const contentType = CONTENT_TYPES[format];
  if (compression === 'gzip') return { body: gzipSync(raw), extension, contentType, contentEncoding: 'gzip' };
  if (compression === 'zstd') return { body: zstdCompressSync(raw), extension, contentType, contentEncoding: 'zstd' };
  return { body: raw, extension, contentType };
}

/** Thrown by decodeObject for a key extension that no Runnel writer produces. */
export class UnknownObjectFormatError extends Error {
  constructor(extension: string) {
    super(`unknown object format ".${extension}"`);
    this.name = 'UnknownObjectFormatError';
  }
}

/**
 * An object body back to its envelopes: exactly the envelopes that were encoded. Objects written
 * before generations existed come back completed (upgradeEnvelope: generation 1, event time from
 * the cluster time, a null collection for database-level events).
 */
export function decodeObject(body: Buffer, extension: string): ChangeEnvelope[] {
  const kind = parseExtension(extension);
  if (!kind) throw new UnknownObjectFormatError(extension);
  if (kind.format === 'parquet') return decodeParquet(body).map(upgradeEnvelope);
  const raw = kind.compression === 'gzip' ? gunzipSync(body) : kind.compression === 'zstd' ? zstdDecompressSync(body) : body;
  return (kind.format === 'jsonl' ? decodeJsonl(raw) : decodeCsv(raw)).map(upgradeEnvelope);
}
