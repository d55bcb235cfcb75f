/**
 * One change event in the form every format writes: the same field names in JSONL, CSV and Parquet.
 * Document-valued fields hold MongoDB Extended JSON (canonical) text so BSON types (ObjectId, Date,
 * Decimal128, Long, Binary, a double 5.0 as a double) survive any format and read back exactly.
 */
export interface ChangeEnvelope {
  operation: string;
  database: string;
  /** null for database-level events (dropDatabase), which belong to no collection; never ''. */
  collection: string | null;
  /** EJSON text of documentKey. */
  document_key: string | null;
  /** EJSON text of fullDocument, or null (deletes; updates without a lookup). */
  full_document: string | null;
  /** EJSON text of the pre-image, or null when not requested or not available. */
  full_document_before_change: string | null;
  /** EJSON text of updateDescription, or null. */
  update_description: string | null;
  /** EJSON text of operationDescription (events shown with showExpandedEvents), or null. */
  operation_description: string | null;
  /** A rename's target as `db.coll` (the event's `to`), or null. */
  to_namespace: string | null;
  /**
   * Cluster time as `<seconds>.<increment>`, unpadded: the exact value, kept as it always was. It
   * does not sort (`…300.10` < `…300.9` as text and as a number): sort by event_time, then
   * cluster_time_increment.
   */
  cluster_time: string;
  /** The cluster time's seconds as UTC ISO-8601 with milliseconds (`2026-11-21T22:15:00.000Z`). */
  event_time: string;
  /** The cluster time's increment, an integer (0 … 2^32-1): orders events within a second. */
  cluster_time_increment: number;
  /** Wall time as ISO-8601 UTC, or null (servers before 6.0). */
  wall_time: string | null;
  txn_number: string | null;
  /** EJSON text of lsid, or null. */
  lsid: string | null;
  /** The stream this event came from, e.g. `shop.orders` or `shop` or `*`. */
  stream: string;
  /** The stream's generation (epoch), from 1: seq restarts at 1 in each new generation. */
  generation: number;
  /** Position in the stream's generation, from 1, gap-free: the basis of object names and of checking the lake. */
  seq: number;
}

/** The field order of JSONL lines, the CSV header and the Parquet columns. */
export const ENVELOPE_FIELDS: (keyof ChangeEnvelope)[] = [
  'operation',
  'database',
  'collection',
  'document_key',
  'full_document',
  'full_document_before_change',
  'update_description',
  'operation_description',
  'to_namespace',
  'cluster_time',
  'event_time',
  'cluster_time_increment',
  'wall_time',
  'txn_number',
  'lsid',
  'stream',
  'generation',
  'seq',
];

/** Envelope fields that hold numbers (CSV reads them back as numbers). */
export const NUMERIC_ENVELOPE_FIELDS: readonly (keyof ChangeEnvelope)[] = ['cluster_time_increment', 'generation', 'seq'];

/**
 * An envelope read from an object written before generations and typed event times existed
 * (no generation, event_time, cluster_time_increment, operation_description, to_namespace; ''
 * as a database-level event's collection), completed to the current shape: generation 1, the
 * event time and increment from cluster_time, null for the rest. A current envelope is returned
 * as it is, so decoding what was encoded gives back exactly that.
 */
export function upgradeEnvelope(e: ChangeEnvelope): ChangeEnvelope {
  const current = typeof e.generation === 'number' && typeof e.event_time === 'string' && typeof e.cluster_time_increment === 'number' && e.operation_description !== undefined && e.to_namespace !== undefined && e.collection !== '';
  if (current) return e;
  const [seconds, increment] = String(e.cluster_time).split('.');
  const upgraded: Record<string, unknown> = {};
  const derived: Partial<ChangeEnvelope> = {
    collection: e.collection === '' || e.collection === undefined ? null : e.collection,
    operation_description: e.operation_description ?? null,
    to_namespace: e.to_namespace ?? null,
    event_time: typeof e.event_time === 'string' ? e.event_time : new Date(Number(seconds) * 1000).toISOString(),
    cluster_time_increment: typeof e.cluster_time_increment === 'number' ? e.cluster_time_increment : Number(increment ?? 0),
    generation: typeof e.generation === 'number' ? e.generation : 1,
  };
  for (const f of ENVELOPE_FIELDS) upgraded[f] = f in derived ? derived[f] : e[f];
  return upgraded as unknown as ChangeEnvelope;
}
