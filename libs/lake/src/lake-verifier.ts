import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { decodeObject } from './formats/object-codec';
import { parseObjectKey } from './object-key';

export interface StreamReport {
  stream: string;
  objects: number;
  events: number;
  /** Events per collection. */
  collections: Record<string, number>;
  maxSeq: number;
  /** Seqs in 1..maxSeq found in no object (first 20 listed, all counted). */
  missing: number;
  missingSample: number[];
  /** Seqs found more than once. */
  duplicates: number;
  duplicateSample: number[];
  /** Objects whose key range disagrees with their content. */
  badObjects: string[];
}

/**
 * Reads every object under a prefix back (any format and compression) and checks each stream's
 * sequence: every seq from 1 to the highest seen exactly once. This is how the pipeline's
 * "nothing lost, nothing duplicated" is checked, by the tests, the chaos run and operators.
 */
export async function verifyLake(s3: S3Client, bucket: string, prefix = ''): Promise<StreamReport[]> {
  const seen = new Map<string, { report: StreamReport; seqs: Uint8Array; extra: Set<number> }>();
  const grow = (arr: Uint8Array, n: number) => {
    if (n < arr.length) return arr;
    const next = new Uint8Array(Math.max(n + 1, arr.length * 2));
    next.set(arr);
    return next;
  };
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
    for (const item of page.Contents ?? []) {
      const key = item.Key!;
      const parsed = parseObjectKey(key);
      if (!parsed) continue;
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from(await res.Body!.transformToByteArray());
      const events = decodeObject(body, parsed.extension);
      let entry = seen.get(parsed.stream);
      if (!entry) {
        entry = {
          report: { stream: parsed.stream, objects: 0, events: 0, collections: {}, maxSeq: 0, missing: 0, missingSample: [], duplicates: 0, duplicateSample: [], badObjects: [] },
          seqs: new Uint8Array(1024),
          extra: new Set(),
        };
        seen.set(parsed.stream, entry);
      }
      const r = entry.report;
      r.objects++;
      const first = events[0]?.seq;
      const last = events.at(-1)?.seq;
      if (first !== parsed.seqStart || last !== parsed.seqEnd) r.badObjects.push(key);
      for (const e of events) {
        r.events++;
        r.collections[e.collection] = (r.collections[e.collection] ?? 0) + 1;
        r.maxSeq = Math.max(r.maxSeq, e.seq);
        entry.seqs = grow(entry.seqs, e.seq);
        if (entry.seqs[e.seq] === 1) {
          r.duplicates++;
          if (r.duplicateSample.length < 20) r.duplicateSample.push(e.seq);
        }
        entry.seqs[e.seq] = 1;
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (const { report, seqs } of seen.values()) {
    for (let s = 1; s <= report.maxSeq; s++) {
      if (seqs[s] !== 1) {
        report.missing++;
        if (report.missingSample.length < 20) report.missingSample.push(s);
      }
    }
  }
  return [...seen.values()].map((e) => e.report).sort((a, b) => a.stream.localeCompare(b.stream));
}

/** Every seq once, and every object's content agrees with its key. */
export function isCleanStream(r: StreamReport): boolean {
  return r.missing === 0 && r.duplicates === 0 && r.badObjects.length === 0;
}

/** One line per stream for the tools that print a verification (lake:verify, compose:smoke). */
export function describeStream(r: StreamReport): string {
  return (
    `stream ${r.stream}: ${r.objects} objects, ${r.events} events (seq 1..${r.maxSeq}), missing ${r.missing}, duplicated ${r.duplicates}` +
    `${r.badObjects.length ? `, ${r.badObjects.length} objects whose content disagrees with their key` : ''} — ${isCleanStream(r) ? 'OK' : 'PROBLEM'}`
  );
}
