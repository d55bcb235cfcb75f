/**
 * One change event in the form every format writes: the same field names in JSONL, CSV and Parquet.
 * Document-valued fields hold MongoDB Extended JSON (canonical) text so BSON types (ObjectId, Date,
 * Decimal128, Long, Binary) survive any format and read back exactly.
 */
export interface ChangeEnvelope {
  operation: string;
  database: string;
  collection: string;
  /** EJSON text of documentKey. */
  document_key: string | null;
  /** EJSON text of fullDocument, or null (deletes; updates without a lookup). */
  full_document: string | null;
  /** EJSON text of the pre-image, or null when not requested or not available. */
  full_document_before_change: string | null;
  /** EJSON text of updateDescription, or null. */
  update_description: string | null;
  /** Cluster time as `<seconds>.<increment>`: orders events and drives hive partitions. */
  cluster_time: string;
  /** Wall time as ISO-8601, or null (servers before 6.0). */
  wall_time: string | null;
  txn_number: string | null;
  /** EJSON text of lsid, or null. */
  lsid: string | null;
  /** The stream this event came from, e.g. `shop.orders` or `shop` or `*`. */
  stream: string;
  /** Position in the stream, from 1, gap-free: the basis of object names and of checking the lake. */
  seq: number;
}

export const ENVELOPE_FIELDS: (keyof ChangeEnvelope)[] = [
  'operation',
  'database',
  'collection',
  'document_key',
  'full_document',
  'full_document_before_change',
  'update_description',
  'cluster_time',
  'wall_time',
  'txn_number',
  'lsid',
  'stream',
  'seq',
];
