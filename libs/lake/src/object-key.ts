/** How object keys are laid out under S3_PREFIX (KEY_STRATEGY). */
export const KEY_STRATEGIES = ['hive', 'date_hour', 'date', 'collection', 'flat'] as const;
export type KeyStrategy = (typeof KEY_STRATEGIES)[number];

export interface ObjectKeyParts {
  strategy: KeyStrategy;
  prefix: string;
  stream: string;
  collection: string;
  /** Cluster time of the batch's events, seconds since the epoch (a batch never spans two hours). */
  clusterSeconds: number;
  seqStart: number;
  seqEnd: number;
  /** e.g. `jsonl.zst`, `parquet`, `csv.gz`. */
  extension: string;
}

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
 * An object key made only from the data: the events' cluster time and the batch's position in its
 * stream, never the wall clock. A replay of the same batch produces the same key, so a crash
 * between "stored" and "checkpointed" rewrites the same object instead of adding a duplicate
 * (Kafka Connect's S3 sink gets exactly-once the same way, naming files after source offsets).
 *
 * File name: `<stream>+<seqStart>+<seqEnd>.<ext>`, positions zero-padded to 20 digits so keys sort
 * in stream order.
 */
export function objectKey(p: ObjectKeyParts): string {
  const d = new Date(p.clusterSeconds * 1000);
  const [y, m, day, h] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1, 2), pad(d.getUTCDate(), 2), pad(d.getUTCHours(), 2)];
  const file = `${safe(p.stream)}+${pad(p.seqStart, 20)}+${pad(p.seqEnd, 20)}.${p.extension}`;
  const c = safe(p.collection);
  const prefix = p.prefix === '' ? '' : p.prefix.endsWith('/') ? p.prefix : `${p.prefix}/`;
  switch (p.strategy) {
    case 'hive':
      return `${prefix}collection=${c}/year=${y}/month=${m}/day=${day}/hour=${h}/${file}`;
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

/** Reads the stream, positions and extension back from a key made by `objectKey` (for the verifier). */
export function parseObjectKey(key: string): { stream: string; seqStart: number; seqEnd: number; extension: string } | undefined {
  const file = key.slice(key.lastIndexOf('/') + 1);
  const m = /(?:^|\+)([^+]+)\+(\d{20})\+(\d{20})\.(.+)$/.exec(file);
  if (!m) return undefined;
  return { stream: decodeURIComponent(m[1]), seqStart: Number(m[2]), seqEnd: Number(m[3]), extension: m[4] };
}
