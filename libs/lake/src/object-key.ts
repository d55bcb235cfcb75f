/** How object keys are laid out under S3_PREFIX (KEY_STRATEGY). */
export const KEY_STRATEGIES = ['hive', 'date_hour', 'date', 'collection', 'flat'] as const;
export type KeyStrategy = (typeof KEY_STRATEGIES)[number];

export interface ObjectKeyParts {
  strategy: KeyStrategy;
  prefix: string;
  stream: string;
  /** The stream's generation (epoch), from 1: seqs restart at 1 in each generation. */
  generation: number;
  /** null for database-level events (dropDatabase), which belong to no collection. */
  collection: string | null;
  /** Cluster time of the batch's events, seconds since the epoch (a batch never spans two hours). */
  clusterSeconds: number;
  seqStart: number;
  seqEnd: number;
  /** e.g. `jsonl.zst`, `parquet`, `csv.gz`. */
  extension: string;
}

/** What parseObjectKey reads back from a key: the object's identity within its stream. */
export interface ParsedObjectKey {
  stream: string;
  generation: number;
  seqStart: number;
  seqEnd: number;
  extension: string;
}

/**
 * The hive partition key for the collection. Not `collection`: that is an envelope column, and
 * Athena/Glue refuse a table whose partition key repeats a column (kafka-connect-storage-common#290).
 */
export const HIVE_COLLECTION_KEY = 'coll';
/** Hive's name for a NULL partition value: Hive, Spark, Athena and DuckDB read it back as NULL. */
export const HIVE_NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';
/** The folder of database-level events in the non-hive layouts (no empty path segment). */
export const DATABASE_EVENTS_FOLDER = '_database';

// Generations are epoch seconds (ten digits until 2286); legacy objects are generation 1.
const GENERATION_WIDTH = 10;
const SEQ_WIDTH = 20;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Path-safe: S3 accepts most characters, but `/` would add levels and `+` is the field separator. */
function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9._=-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The hour a batch belongs to, `YYYY-MM-DDTHH` in UTC: batches are cut so they never span two. */
export function hourPartition(clusterSeconds: number): string {
  return new Date(clusterSeconds * 1000).toISOString().slice(0, 13);
}

/**
 * An object key made only from the data: the events' cluster time and the batch's identity in its
 * stream (generation and seq range), never the wall clock. A replay of the same batch produces the
 * same key, so a crash between "stored" and "checkpointed" meets the same object instead of adding
 * a duplicate (Kafka Connect's S3 sink gets exactly-once the same way, naming files after source
 * offsets). The generation keeps a stream whose seqs restarted at 1 from reusing earlier names.
 *
 * File name: `<stream>+<generation>+<seqStart>+<seqEnd>.<ext>`, the generation zero-padded to 10
 * digits and positions to 20, so one stream's keys sort by generation, then by seq.
 */
export function objectKey(p: ObjectKeyParts): string {
  const d = new Date(p.clusterSeconds * 1000);
  const [y, m, day, h] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1, 2), pad(d.getUTCDate(), 2), pad(d.getUTCHours(), 2)];
  const file = `${safe(p.stream)}+${pad(p.generation, GENERATION_WIDTH)}+${pad(p.seqStart, SEQ_WIDTH)}+${pad(p.seqEnd, SEQ_WIDTH)}.${p.extension}`;
  const prefix = p.prefix === '' ? '' : p.prefix.endsWith('/') ? p.prefix : `${p.prefix}/`;
  if (p.strategy === 'hive') {
    const value = p.collection === null ? HIVE_NULL_PARTITION : safe(p.collection);
    return `${prefix}${HIVE_COLLECTION_KEY}=${value}/year=${y}/month=${m}/day=${day}/hour=${h}/${file}`;
  }
  const c = p.collection === null ? DATABASE_EVENTS_FOLDER : safe(p.collection);
  switch (p.strategy) {
    case 'date_hour':
      return `${prefix}${c}/${y}/${m}/${day}/${h}/${file}`;
    case 'date':
      return `${prefix}${c}/${y}/${m}/${day}/${file}`;
    case 'collection':
      return `${prefix}${c}/${file}`;
    case 'flat':
      return `${prefix}${c}+${file}`;
  }
}

const NAME = new RegExp(`(?:^|\\+)([^+]+)\\+(\\d{${GENERATION_WIDTH},})\\+(\\d{${SEQ_WIDTH}})\\+(\\d{${SEQ_WIDTH}})\\.(.+)$`);
/** Names written before generations existed: `<stream>+<seqStart>+<seqEnd>.<ext>`, read as generation 1. */
const NAME_BEFORE_GENERATIONS = new RegExp(`(?:^|\\+)([^+]+)\\+(\\d{${SEQ_WIDTH}})\\+(\\d{${SEQ_WIDTH}})\\.(.+)$`);

/** Reads the stream, generation, positions and extension back from a key made by `objectKey` (for the verifier). */
export function parseObjectKey(key: string): ParsedObjectKey | undefined {
  const file = key.slice(key.lastIndexOf('/') + 1);
  const m = NAME.exec(file);
  if (m) return { stream: decodeURIComponent(m[1]), generation: Number(m[2]), seqStart: Number(m[3]), seqEnd: Number(m[4]), extension: m[5] };
  const old = NAME_BEFORE_GENERATIONS.exec(file);
  if (!old) return undefined;
  return { stream: decodeURIComponent(old[1]), generation: 1, seqStart: Number(old[2]), seqEnd: Number(old[3]), extension: old[4] };
}
