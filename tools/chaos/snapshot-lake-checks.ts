import { EJSON } from 'bson';
import { canonicalEjson, type ChangeEnvelope } from '@runnel/lake';

/** A document across the lake, the server and the source: `collection|canonical EJSON of its _id`. */
export type DocumentRef = string;

export const documentRef = (collection: string, id: unknown): DocumentRef => `${collection}|${canonicalEjson(id)}`;

/** The ref of a lake row (document_key is canonical EJSON of `{ _id }`; re-spelled so any spelling matches). */
export function rowRef(e: ChangeEnvelope): DocumentRef | undefined {
  if (e.collection === null || e.document_key === null) return undefined;
  const key = EJSON.parse(e.document_key, { relaxed: false }) as Record<string, unknown>;
  return '_id' in key ? documentRef(e.collection, key['_id']) : undefined;
}

/** What the source knows the snapshot must have read, from how it seeded and wrote. */
export interface SnapshotExpectation {
  /** The database the stream watches (only its rows are checked). */
  database: string;
  /**
   * Every document the snapshot must have emitted a row for: those present when their chunk was
   * read, which the source knows for certain (it deleted and inserted only where it knew whether
   * the chunk had been read), each with its seeded index when the writer never wrote it (its row
   * must then equal `seeded(index)`), null when it was written during the run (any version it had
   * when its chunk was read will do; the state check judges the outcome).
   */
  mustRead: ReadonlyMap<DocumentRef, number | null>;
  /** Canonical EJSON of seeded document `index`, as inserted. */
  seeded(index: number): string;
  /** Documents deleted before their chunk was read: no snapshot row may exist for them. */
  deletedBeforeRead: ReadonlySet<DocumentRef>;
  /** Documents on the server now (for "a row's document exists now or was deleted after it"). */
  onServer: ReadonlySet<DocumentRef>;
}

export interface Finding {
  ok: boolean;
  line: string;
  /** The first few offending rows or documents. */
  samples: string[];
}

export interface SnapshotLakeChecks {
  ok: boolean;
  /** Distinct snapshot rows (seqs) per generation. */
  rowsPerGeneration: Record<number, number>;
  /** Change events (distinct seqs, not snapshot rows) per generation. */
  eventsPerGeneration: Record<number, number>;
  /** (a) at most one snapshot row per document per generation. */
  onePerDocument: Finding;
  /** The snapshot rows are exactly the documents it had to read: none missing, none for a document it could not have read. */
  exactRowSet: Finding;
  /** (b) no row for a document deleted before its chunk was read, and every row's document exists now or was deleted later. */
  noRowForDeleted: Finding;
  /** Rows come first in the stream (seq 1..rows), all at P's cluster time. */
  rowsBeforeEvents: Finding;
  /** (e) a document the writer never wrote: exactly one row in the lake, its snapshot row, equal to the seeded document. */
  untouched: Finding;
}

const SHOWN = 5;
// A loop, not Math.max(...): a spread of 100,000 seqs overflows the call stack.
const highest = (xs: Iterable<number>) => {
  let max = 0;
  for (const v of xs) if (v > max) max = v;
  return max;
};
const finding = (ok: boolean, line: string, samples: string[] = []): Finding => ({ ok, line, samples: samples.slice(0, SHOWN) });

/**
 * The snapshot's half of the issue 10 proof, over the lake's rows of one stream (any number of
 * generations: a healthy run has one, and each is checked on its own). Copies of one seq (a
 * replayed object) count once; different seqs for one document are different rows.
 */
export function checkSnapshotRows(envelopes: Iterable<ChangeEnvelope>, x: SnapshotExpectation): SnapshotLakeChecks {
  // generation → ref → distinct seqs (and the first row of each)
  const snapshotRows = new Map<number, Map<DocumentRef, Map<number, ChangeEnvelope>>>();
  // ref → seqs of its rows of any operation, per generation: "exactly one row in the lake"
  const allRows = new Map<number, Map<DocumentRef, Set<number>>>();
  const deletes = new Map<number, Map<DocumentRef, number>>(); // highest delete seq
  const eventSeqs = new Map<number, Set<number>>();
  const rowSeqs = new Map<number, Set<number>>();
  const clusterTimes = new Map<number, Set<string>>();
  const of = <K, V>(m: Map<K, V>, k: K, make: () => V): V => {
    let v = m.get(k);
    if (v === undefined) m.set(k, (v = make()));
    return v;
  };

  for (const e of envelopes) {
    if (e.database !== x.database) continue;
    const g = e.generation;
    const ref = rowRef(e);
    if (ref !== undefined) of(of(allRows, g, () => new Map()), ref, () => new Set()).add(e.seq);
    if (e.operation === 'snapshot') {
      of(rowSeqs, g, () => new Set()).add(e.seq);
      of(clusterTimes, g, () => new Set()).add(e.cluster_time);
      if (ref === undefined) continue;
      const seqs = of(of(snapshotRows, g, () => new Map()), ref, () => new Map());
      if (!seqs.has(e.seq)) seqs.set(e.seq, e);
    } else {
      of(eventSeqs, g, () => new Set()).add(e.seq);
      if (e.operation === 'delete' && ref !== undefined) {
        const d = of(deletes, g, () => new Map());
        d.set(ref, Math.max(d.get(ref) ?? 0, e.seq));
      }
    }
  }

  const rowsPerGeneration: Record<number, number> = {};
  const eventsPerGeneration: Record<number, number> = {};
  for (const [g, s] of rowSeqs) rowsPerGeneration[g] = s.size;
  for (const [g, s] of eventSeqs) eventsPerGeneration[g] = s.size;

  // (a)
  const twice: string[] = [];
  for (const [g, refs] of snapshotRows) for (const [ref, seqs] of refs) if (seqs.size > 1) twice.push(`generation ${g} ${ref}: seqs ${[...seqs.keys()].sort((a, b) => a - b).join(', ')}`);
  const rows = [...rowSeqs.values()].reduce((s, x) => s + x.size, 0);
  const documents = [...snapshotRows.values()].reduce((s, m) => s + m.size, 0);
  const onePerDocument = finding(twice.length === 0, twice.length === 0 ? `${rows} snapshot rows, one per document (${documents} documents)` : `${twice.length} documents with more than one snapshot row in a generation`, twice);

  // The exact set: judged in the generation the snapshot ran in (the first with rows).
  const [first] = [...snapshotRows.keys()].sort((a, b) => a - b);
  const inFirst = first === undefined ? new Map<DocumentRef, Map<number, ChangeEnvelope>>() : (snapshotRows.get(first) ?? new Map());
  const missing = [...x.mustRead.keys()].filter((r) => !inFirst.has(r));
  const unexpected = [...inFirst.keys()].filter((r) => !x.mustRead.has(r) && !x.deletedBeforeRead.has(r));
  const exactRowSet = finding(
    missing.length === 0 && unexpected.length === 0,
    missing.length === 0 && unexpected.length === 0
      ? `the rows are exactly the ${x.mustRead.size} documents present when their chunk was read`
      : `${missing.length} documents the snapshot had to read have no row; ${unexpected.length} rows for documents it could not have read (inserted where the snapshot had passed)`,
    [...missing.map((r) => `no row: ${r}`), ...unexpected.map((r) => `unexpected row: ${r}`)],
  );

  // (b)
  const forDeleted = [...x.deletedBeforeRead].filter((r) => [...snapshotRows.values()].some((m) => m.has(r)));
  const vanished: string[] = [];
  for (const [g, refs] of snapshotRows) {
    for (const [ref, seqs] of refs) {
      if (x.onServer.has(ref)) continue;
      const last = highest(seqs.keys());
      if ((deletes.get(g)?.get(ref) ?? 0) <= last) vanished.push(`generation ${g} ${ref}: snapshot row seq ${last}, no later delete, not on the server`);
    }
  }
  const noRowForDeleted = finding(
    forDeleted.length === 0 && vanished.length === 0,
    forDeleted.length === 0 && vanished.length === 0
      ? `no row for the ${x.deletedBeforeRead.size} documents deleted before their chunk was read; every row's document is on the server or deleted by a later event`
      : `${forDeleted.length} rows for documents deleted before their chunk was read; ${vanished.length} rows whose document is gone with no later delete`,
    [...forDeleted.map((r) => `row for deleted-before-read ${r}`), ...vanished],
  );

  // Rows first: seq 1..rows in each generation, every event after the last row; one cluster time.
  const order: string[] = [];
  for (const [g, seqs] of rowSeqs) {
    const max = highest(seqs);
    if (max !== seqs.size) order.push(`generation ${g}: ${seqs.size} rows but the highest row seq is ${max}`);
    const early = [...(eventSeqs.get(g) ?? [])].filter((s) => s < max);
    if (early.length) order.push(`generation ${g}: ${early.length} change events among the rows (seq ${early.slice(0, SHOWN).join(', ')} < ${max})`);
    const times = clusterTimes.get(g) ?? new Set();
    if (times.size !== 1) order.push(`generation ${g}: rows at ${times.size} cluster times (${[...times].slice(0, SHOWN).join(', ')}), not all at P's`);
  }
  const rowsBeforeEvents = finding(order.length === 0, order.length === 0 ? `rows are seq 1..${rows} of their generation, at P's cluster time ${[...(clusterTimes.get(first ?? 0) ?? [])].join('')}; every change event after them` : 'rows and events are out of order', order);

  // (e)
  let untouchedCount = 0;
  const badUntouched: string[] = [];
  for (const [ref, index] of x.mustRead) {
    if (index === null) continue;
    untouchedCount++;
    const content = x.seeded(index);
    const seqs = first === undefined ? undefined : allRows.get(first)?.get(ref);
    const row = inFirst.get(ref);
    if (!seqs || seqs.size !== 1 || !row) {
      badUntouched.push(`${ref}: ${seqs?.size ?? 0} rows`);
      continue;
    }
    const [only] = row.values();
    const got = only.full_document === null ? null : canonicalEjson(EJSON.parse(only.full_document, { relaxed: false }));
    if (got !== content) badUntouched.push(`${ref}: row seq ${only.seq} holds ${String(got).slice(0, 200)}, seeded ${content.slice(0, 200)}`);
  }
  const untouched = finding(badUntouched.length === 0, badUntouched.length === 0 ? `the ${untouchedCount} documents never written during the run: one row each, equal to the seeded document` : `${badUntouched.length} of the ${untouchedCount} untouched documents lack their one row or differ from what was seeded`, badUntouched);

  const all = [onePerDocument, exactRowSet, noRowForDeleted, rowsBeforeEvents, untouched];
  return { ok: all.every((f) => f.ok), rowsPerGeneration, eventsPerGeneration, onePerDocument, exactRowSet, noRowForDeleted, rowsBeforeEvents, untouched };
}
