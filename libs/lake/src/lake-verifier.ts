import type { S3Client } from '@aws-sdk/client-s3';
import { readLakeObjects } from './lake-objects';

/** One generation of one stream: seqs run from 1 within it, so it is checked on its own. */
export interface StreamReport {
  stream: string;
  /** The stream's generation (epoch): a new one starts again at seq 1. */
  generation: number;
  objects: number;
  events: number;
  /** Events per collection. */
  collections: Record<string, number>;
  /** Database-level events (dropDatabase: no collection). */
  databaseEvents: number;
  maxSeq: number;
  /** Seqs in 1..maxSeq found in no object (first 20 listed, all counted). */
  missing: number;
  missingSample: number[];
  /** Seqs found more than once. */
  duplicates: number;
  duplicateSample: number[];
  /** Objects whose key (stream, generation, seq range) disagrees with their content. */
  badObjects: string[];
}

/**
 * Reads every object under a prefix back (any format and compression) and checks each stream's
 * sequence per generation: every seq from 1 to the highest seen exactly once. This is how the
 * pipeline's "nothing lost, nothing duplicated" is checked, by the tests, the chaos run and
 * operators. Reports are sorted by stream, then generation.
 */
export async function verifyLake(s3: S3Client, bucket: string, prefix = ''): Promise<StreamReport[]> {
  const seen = new Map<string, { report: StreamReport; seqs: Uint8Array }>();
  const grow = (arr: Uint8Array, n: number) => {
    if (n < arr.length) return arr;
    const next = new Uint8Array(Math.max(n + 1, arr.length * 2));
    next.set(arr);
    return next;
  };
  for await (const o of readLakeObjects(s3, bucket, prefix)) {
    const id = JSON.stringify([o.stream, o.generation]);
    let entry = seen.get(id);
    if (!entry) {
      entry = {
        report: { stream: o.stream, generation: o.generation, objects: 0, events: 0, collections: {}, databaseEvents: 0, maxSeq: 0, missing: 0, missingSample: [], duplicates: 0, duplicateSample: [], badObjects: [] },
        seqs: new Uint8Array(1024),
      };
      seen.set(id, entry);
    }
    const r = entry.report;
    r.objects++;
    const { events } = o;
    const agrees = events[0]?.seq === o.seqStart && events.at(-1)?.seq === o.seqEnd && events.every((e) => e.stream === o.stream && e.generation === o.generation);
    if (!agrees) r.badObjects.push(o.key);
    for (const e of events) {
      r.events++;
      if (e.collection === null) r.databaseEvents++;
      else r.collections[e.collection] = (r.collections[e.collection] ?? 0) + 1;
      r.maxSeq = Math.max(r.maxSeq, e.seq);
      entry.seqs = grow(entry.seqs, e.seq);
      if (entry.seqs[e.seq] === 1) {
        r.duplicates++;
        if (r.duplicateSample.length < 20) r.duplicateSample.push(e.seq);
      }
      entry.seqs[e.seq] = 1;
    }
  }
  for (const { report, seqs } of seen.values()) {
    for (let s = 1; s <= report.maxSeq; s++) {
      if (seqs[s] !== 1) {
        report.missing++;
        if (report.missingSample.length < 20) report.missingSample.push(s);
      }
    }
  }
  return [...seen.values()].map((e) => e.report).sort((a, b) => a.stream.localeCompare(b.stream) || a.generation - b.generation);
}

/** Every seq once, and every object's content agrees with its key. */
export function isCleanStream(r: StreamReport): boolean {
  return r.missing === 0 && r.duplicates === 0 && r.badObjects.length === 0;
}

/** One line per stream generation for the tools that print a verification (lake:verify, compose:smoke). */
export function describeStream(r: StreamReport): string {
  return (
    `stream ${r.stream} generation ${r.generation}: ${r.objects} objects, ${r.events} events (seq 1..${r.maxSeq}), missing ${r.missing}, duplicated ${r.duplicates}` +
    `${r.badObjects.length ? `, ${r.badObjects.length} objects whose content disagrees with their key` : ''} — ${isCleanStream(r) ? 'OK' : 'PROBLEM'}`
  );
}

/**
 * The verification as the tools print it (lake:verify, compose:smoke): a describeStream line per stream
 * generation, with `details` followed by its events per collection, database-level events, first missing
 * and duplicated seqs and (up to 10) bad objects. Clean: at least one stream, and every one clean.
 */
export function describeLake(reports: StreamReport[], { details = false } = {}): { clean: boolean; lines: string[] } {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(describeStream(r));
    if (!details) continue;
    for (const [c, n] of Object.entries(r.collections).sort()) lines.push(`  ${c}: ${n} events`);
    if (r.databaseEvents) lines.push(`  (database-level, no collection): ${r.databaseEvents} events`);
    if (r.missingSample.length) lines.push(`  first missing seqs: ${r.missingSample.join(', ')}`);
    if (r.duplicateSample.length) lines.push(`  first duplicated seqs: ${r.duplicateSample.join(', ')}`);
    for (const k of r.badObjects.slice(0, 10)) lines.push(`  bad object: ${k}`);
  }
  return { clean: reports.length > 0 && reports.every(isCleanStream), lines };
}
