import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Decimal128, type Document, Double, Int32, Long, MongoClient, ObjectId, type ResumeToken } from 'mongodb';
import { eventually, MongoStandIn } from '@runnel/testing';
import { canonicalEjson, type ChangeEnvelope, type CollectionsState, currentStateFromLake, diffStates, downloadLakeObjects, readLakeEnvelopes } from '@runnel/lake';
import { type ChaosHarness, type ChaosScenario, type ChaosSource, type ReaderReplica, type ReaderStatus, type SourceCheck, standInReaderEnv } from './chaos-source';
import { serverCollectionState } from './collection-state';
import { currentResumeToken, lakeEventKey, sourceEventKeys } from './source-events';
import { checkSnapshotRows, documentRef, type DocumentRef, type SnapshotLakeChecks } from './snapshot-lake-checks';
import { prng } from '../mongo/workload';
import { SEED_COLLECTIONS, seededCollection, seededDocument } from './snapshot-seed';

export interface SnapshotChaosOptions {
  /** Documents seeded before any reader starts (over SEED_COLLECTIONS, mixed `_id` types). */
  documents: number;
  /** Change events the writer causes, from the moment the stream has its position. */
  events: number;
  /** The writer's writes per second. */
  rate: number;
  seed?: number;
  /** SNAPSHOT_CHUNK_SIZE. Default 500. */
  chunkSize?: number;
  /** SNAPSHOT_PARALLELISM. Default 2 (the reader's default). */
  parallelism?: number;
  /**
   * CHANNEL_BUFFER_SIZE: rows read but not yet in S3, at most. Default 2000: the snapshot then moves at
   * the lake's pace (as behind a slow uploader in production) instead of racing ahead of it in memory,
   * so the scenarios find it mid-way with rows stored, and the deletes ahead of it have a known margin.
   */
  bufferSize?: number;
  /** Filler characters per seeded document (~420 bytes of BSON without). Default 200. */
  textBytes?: number;
  /** Reader replicas (the second one stands by and takes over a killed holder's lease). Default 2. */
  replicas?: number;
}

const DATABASE = 'shop';
const NS_PREFIX = `${DATABASE}.`;
const INSERT_BATCH = 1000;
// The driver replaces an `_id` that is null with a new ObjectId unless the server is left to do it.
const INSERT_OPTIONS = { forceServerObjectId: true } as const;

/** /ready's `snapshot` detail (the change-reader's SnapshotStatus), as far as the run reads it. */
interface SnapshotStatus {
  phase: 'reading' | 'streaming' | 'complete';
  position_cluster_time: string | null;
  rows: number;
  collections: Record<string, { state: 'pending' | 'reading' | 'done'; rows: number; chunks: number }>;
}

/** A reader's /ready with the snapshot detail typed. */
type Ready = ReaderStatus & { snapshot: SnapshotStatus | null };

/** A reader's /ready, or undefined when it is not running or does not answer. */
async function readerReady(r: ReaderReplica, timeoutMs = 2000): Promise<Ready | undefined> {
  return r.process.running ? ((await r.status(timeoutMs)) as Ready | undefined) : undefined;
}

/** A collection's state in a snapshot status (keyed `db.coll` by the reader; a bare name is accepted too). */
function collectionStatus(s: SnapshotStatus, collection: string) {
  return s.collections[`${NS_PREFIX}${collection}`] ?? s.collections[collection];
}

/** The holder (state reading) and its /ready, when one answers. */
async function holderOf(h: ChaosHarness): Promise<{ reader: ReaderReplica; ready: Ready } | undefined> {
  for (const reader of h.readers) {
    const ready = await readerReady(reader);
    if (ready?.state === 'reading') return { reader, ready };
  }
  return undefined;
}

/** One seeded or written document the writer may pick. */
interface Live {
  ref: DocumentRef;
  id: unknown;
}

export interface SnapshotWriterReport {
  /** Change events caused (one per write). */
  events: number;
  inserts: number;
  updates: number;
  replaces: number;
  deletes: number;
  /** Updates followed at once by another write of the document (an update, or a delete: the first lookup then finds null). */
  racedWrites: number;
  /** Writes of seeded documents whose chunk was read already (the reader's /ready said so before the write). */
  writesOfReadDocuments: number;
  /** Writes of seeded documents whose chunk was not read yet at the reader's last /ready. */
  writesOfUnreadDocuments: number;
  /** Seeded documents deleted before their chunk was read (certain: /ready said so after the delete). */
  deletedBeforeRead: number;
  /** Inserts and deletes held back to updates because the snapshot had not passed the collection yet. */
  heldBack: number;
  seconds: number;
}

/**
 * The issue 10 proof as a chaos source: the MongoDB stand-in seeded with `documents` documents of
 * mixed `_id` types before any reader starts (SNAPSHOT_MODE=initial: a new stream snapshots them),
 * a writer inserting, updating and deleting during the snapshot and after it, the snapshot's holder
 * killed -9 mid-way and at the handoff, and the run's random kills on top. The checks: at most one
 * snapshot row per document, the rows exactly the documents present when their chunk was read (none
 * for a document deleted before), every change event since the position once, the current state
 * computed from the lake by DuckDB equal to the server's, and untouched documents exactly as seeded.
 *
 * How many rows the stream must end with is known for certain, which is what lets the run wait for
 * the right checkpoint: the writer inserts and deletes only where it knows whether the snapshot has
 * read the chunk (a collection /ready reports done, or any collection once every row is out), and
 * deletes unread documents only far ahead of the reader with a /ready after the delete confirming
 * the collection still pending. Rows = seeded − deleted before read; updates never change it.
 */
export function snapshotChaosSource(o: SnapshotChaosOptions): ChaosSource {
  const seed = o.seed ?? 1;
  const chunkSize = o.chunkSize ?? 500;
  const parallelism = o.parallelism ?? 2;
  const bufferSize = o.bufferSize ?? 2000;
  const textBytes = o.textBytes ?? 200;
  const random = prng(seed ^ 0x51a95407);
  // A pending collection's documents this far from its start cannot have been read by any term: a
  // term reads at most the next collection's first chunks ahead, and runs at most CHANNEL_BUFFER_SIZE
  // rows ahead of the checkpoint a successor starts from.
  const unreadMargin = bufferSize + chunkSize * (parallelism + 1);

  let mongo: MongoStandIn | undefined;
  let client: MongoClient | undefined;
  const standIn = () => {
    if (!mongo || !client) throw new Error('the snapshot source is not started');
    return { mongo, client };
  };
  /** Seeded document index by ref. */
  const seededIndex = new Map<DocumentRef, number>();
  /** Per collection, its documents in `_id` order as seeded (writes append), minus deleted ones. */
  const live = new Map<string, Live[]>();
  const versions = new Map<DocumentRef, number>();
  /** Seeded documents the writer wrote (any write, deletes included). */
  const touched = new Set<DocumentRef>();
  const deletedBeforeRead = new Set<DocumentRef>();
  /** What the run has learned from /ready, monotonically: collections fully read; every row out. */
  const known = { done: new Set<string>(), handedOff: false, rows: new Map<string, number>() };
  /** /ready's total rows at the handoff (the kill-at-handoff scenario's sample), for the report. */
  let handoffRows: number | undefined;
  let startToken: ResumeToken | undefined;
  const writer = new AbortController();
  let writing: Promise<SnapshotWriterReport> | undefined;
  let report: SnapshotWriterReport | undefined;
  let poller: NodeJS.Timeout | undefined;
  let seedSeconds = 0;
  // One write at a time, the writer's and the scenarios' deletes alike: a document the writer picked
  // must not be deleted under it (its update would change nothing, and the event count be wrong).
  let chain: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  };

  /** Rows the snapshot must emit: every seeded document but those deleted before their chunk was read. */
  const expectedRows = () => seededIndex.size - deletedBeforeRead.size;

  /** The holder's rows emitted over time (the last few seconds): how soon the handoff comes. */
  const progress: { t: number; rows: number }[] = [];
  const learn = (ready: Ready | undefined) => {
    if (ready?.state !== 'reading') return;
    if (ready.checkpointSeq >= expectedRows()) known.handedOff = true;
    const s = ready.snapshot;
    if (!s) return;
    if (s.phase !== 'reading') known.handedOff = true;
    if (s.phase === 'reading' && s.rows >= (progress.at(-1)?.rows ?? 0)) {
      progress.push({ t: Date.now(), rows: s.rows });
      while (progress.length > 100) progress.shift();
    }
    for (const c of SEED_COLLECTIONS) {
      const cs = collectionStatus(s, c);
      if (cs?.state === 'done') known.done.add(c);
      if (cs) known.rows.set(c, Math.max(known.rows.get(c) ?? 0, cs.state === 'pending' ? 0 : cs.rows));
    }
  };
  /** Whether the snapshot has passed `collection` for good: inserts and deletes there change no row. */
  const passed = (collection: string) => known.handedOff || known.done.has(collection);

  async function seedDocuments(): Promise<void> {
    const t0 = performance.now();
    const db = standIn().client.db(DATABASE);
    const pending = new Map<string, Document[]>(SEED_COLLECTIONS.map((c) => [c, []]));
    for (let j = 0; j < o.documents; j++) {
      const c = seededCollection(j);
      const doc = seededDocument(seed, j, textBytes);
      seededIndex.set(documentRef(c, doc._id), j);
      const batch = pending.get(c) ?? [];
      batch.push(doc);
      if (batch.length >= INSERT_BATCH) await db.collection(c).insertMany(batch.splice(0), INSERT_OPTIONS);
    }
    for (const [c, batch] of pending) if (batch.length) await db.collection(c).insertMany(batch, INSERT_OPTIONS);
    // The order the snapshot will read them in, from the server's own `_id` index.
    let found = 0;
    for (const c of SEED_COLLECTIONS) {
      const docs: Live[] = [];
      for await (const d of db.collection(c).find({}, { projection: { _id: 1 }, sort: { _id: 1 }, hint: { _id: 1 }, promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true })) {
        docs.push({ ref: documentRef(c, d._id), id: d._id });
      }
      found += docs.length;
      live.set(c, docs);
      const foreign = docs.find((d) => !seededIndex.has(d.ref));
      if (foreign) throw new Error(`seeding: the server holds ${foreign.ref}, which was not seeded (an _id changed on the way)`);
    }
    if (found !== o.documents) throw new Error(`seeding: ${found} documents on the server, ${o.documents} inserted`);
    seedSeconds = (performance.now() - t0) / 1000;
  }

  /**
   * Deletes up to `perCollection` documents from the end of each collection the holder reports pending
   * (beyond unreadMargin from its start), then asks the same holder again: only if it still reports
   * them pending were they certainly deleted before their chunk was read. The last pending collections
   * only, with one pending before them, so the state cannot flip between the two looks.
   */
  async function deleteUnread(h: ChaosHarness, reader: ReaderReplica, perCollection: number): Promise<{ deleted: number; collections: string[] }> {
    const before = await eventually('the holder to report its snapshot', async () => {
      const r = await readerReady(reader);
      return r?.state === 'reading' && r.snapshot?.phase === 'reading' ? r : undefined;
    }, 30_000, 50);
    const status = before.snapshot as SnapshotStatus;
    const pendingNames = SEED_COLLECTIONS.filter((c) => collectionStatus(status, c)?.state === 'pending');
    const targets = pendingNames.slice(1).filter((c) => (live.get(c)?.length ?? 0) > unreadMargin + perCollection);
    if (targets.length === 0) return { deleted: 0, collections: [] };
    const chosen: { c: string; doc: Live }[] = [];
    await exclusive(async () => {
      for (const c of targets) {
        const docs = live.get(c) ?? [];
        for (const doc of docs.splice(docs.length - perCollection)) {
          const r = await standIn().client.db(DATABASE).collection(c).deleteOne({ _id: doc.id } as Document);
          if (r.deletedCount !== 1) throw new Error(`snapshot writer: the delete of ${doc.ref} deleted nothing`);
          chosen.push({ c, doc });
          touched.add(doc.ref);
          count('deletes');
        }
      }
    });
    const after = await readerReady(reader);
    const still = after?.state === 'reading' && after.snapshot ? targets.every((c) => collectionStatus(after.snapshot as SnapshotStatus, c)?.state === 'pending') : false;
    if (!still) {
      throw new Error(`the run cannot tell whether ${chosen.length} deleted documents of ${targets.join(', ')} were read before their delete: ${reader.name} no longer reports them pending (${JSON.stringify(after?.snapshot?.collections)})`);
    }
    for (const { doc } of chosen) deletedBeforeRead.add(doc.ref);
    h.log(`chaos: deleted ${chosen.length} documents of ${targets.join(', ')} before the snapshot reached them (the holder reports them pending after the deletes)`);
    return { deleted: chosen.length, collections: targets };
  }

  const stats: SnapshotWriterReport = { events: 0, inserts: 0, updates: 0, replaces: 0, deletes: 0, racedWrites: 0, writesOfReadDocuments: 0, writesOfUnreadDocuments: 0, deletedBeforeRead: 0, heldBack: 0, seconds: 0 };
  function count(op: 'inserts' | 'updates' | 'replaces' | 'deletes') {
    stats[op]++;
    stats.events++;
  }

  /** The writer: `o.events` change events at `o.rate`, deterministic in its choices (the seed), not in where the snapshot is. */
  async function write(signal: AbortSignal): Promise<SnapshotWriterReport> {
    const t0 = performance.now();
    const db = standIn().client.db(DATABASE);
    let n = 0; // writer content counter
    const due = async (): Promise<boolean> => {
      if (signal.aborted) return false;
      const wait = t0 + (stats.events * 1000) / o.rate - performance.now();
      if (wait > 0) await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
      return !signal.aborted;
    };
    const room = () => o.events - stats.events;
    const note = (c: string, doc: Live, index: number) => {
      if (!seededIndex.has(doc.ref)) return;
      touched.add(doc.ref);
      // Rows emitted in the collection count its documents from the start of its `_id` order (the
      // writer deletes there only once the collection is read), so a smaller index is read.
      if (passed(c) || index < (known.rows.get(c) ?? 0)) stats.writesOfReadDocuments++;
      else stats.writesOfUnreadDocuments++;
    };
    const pick = (c: string): { doc: Live; index: number } | undefined => {
      const docs = live.get(c) ?? [];
      if (docs.length === 0) return undefined;
      // Half the picks among the documents already read, when the collection is being read: updates behind the reader.
      const read = Math.min(known.rows.get(c) ?? 0, docs.length);
      const index = !passed(c) && read > 0 && random() < 0.5 ? Math.floor(random() * read) : Math.floor(random() * docs.length);
      return { doc: docs[index], index };
    };
    const update = async (c: string, doc: Live) => {
      const v = (versions.get(doc.ref) ?? 0) + 1;
      versions.set(doc.ref, v);
      const k = ++n;
      const ops: Document[] = [
        { $set: { version: new Int32(v), 'nested.note.text': `updated ${k}`, price: new Double(k % 40) }, $inc: { count: new Int32(1) } },
        { $set: { version: new Int32(v), [`extra_${k % 4}`]: Long.fromNumber(k) }, $push: { tags: `p${k % 9}` } },
        { $set: { version: new Int32(v), amount: Decimal128.fromString(`${k}.5`) }, $unset: { ratio: '' } },
      ];
      const r = await db.collection(c).updateOne({ _id: doc.id } as Document, ops[k % ops.length]);
      if (r.modifiedCount !== 1) throw new Error(`snapshot writer: the update of ${doc.ref} changed nothing`);
      count('updates');
    };
    const replace = async (c: string, doc: Live) => {
      const v = (versions.get(doc.ref) ?? 0) + 1;
      versions.set(doc.ref, v);
      const k = ++n;
      const r = await db.collection(c).replaceOne({ _id: doc.id } as Document, { replaced: true, version: new Int32(v), at: new Date(Date.UTC(2026, 0, 1) + k), amount: Decimal128.fromString(`${k}.75`), note: `replaced ${k}` });
      if (r.modifiedCount !== 1) throw new Error(`snapshot writer: the replace of ${doc.ref} changed nothing`);
      count('replaces');
    };
    const remove = async (c: string, doc: Live) => {
      const r = await db.collection(c).deleteOne({ _id: doc.id } as Document);
      if (r.deletedCount !== 1) throw new Error(`snapshot writer: the delete of ${doc.ref} deleted nothing`);
      const docs = live.get(c) ?? [];
      const at = docs.indexOf(doc);
      if (at >= 0) docs.splice(at, 1);
      versions.delete(doc.ref);
      count('deletes');
    };
    const insert = async (c: string) => {
      const k = ++n;
      const kind = k % 4;
      const prefix = (seed >>> 0).toString(16).padStart(8, '0');
      const id = kind === 0 ? `w-${k}` : kind === 1 ? new Int32(-k) : kind === 2 ? new ObjectId(`${prefix}beef${k.toString(16).padStart(12, '0')}`) : { w: new Int32(k) };
      await db.collection(c).insertOne({ _id: id as never, written: new Int32(k), version: new Int32(1), at: new Date(Date.UTC(2026, 1, 1) + k * 1000), amount: Decimal128.fromString(`${k}.01`), price: new Double(k % 9) });
      const doc = { ref: documentRef(c, id), id };
      live.get(c)?.push(doc);
      versions.set(doc.ref, 1);
      count('inserts');
    };

    const step = async () => {
      const c = SEED_COLLECTIONS[Math.floor(random() * SEED_COLLECTIONS.length)];
      const roll = random();
      const picked = pick(c);
      const structural = passed(c);
      if (!picked || (roll >= 0.58 && roll < 0.75 && structural)) {
        if (!structural) {
          stats.heldBack++;
          return;
        }
        await insert(c);
      } else if (roll < 0.4) {
        note(c, picked.doc, picked.index);
        await update(c, picked.doc);
      } else if (roll < 0.5) {
        note(c, picked.doc, picked.index);
        await replace(c, picked.doc);
      } else if (roll < 0.58 && room() >= 2) {
        // Two writes back to back: the first event's lookup finds the second version.
        note(c, picked.doc, picked.index);
        await update(c, picked.doc);
        await update(c, picked.doc);
        stats.racedWrites++;
      } else if (roll >= 0.75 && roll < 0.92 && structural) {
        note(c, picked.doc, picked.index);
        await remove(c, picked.doc);
      } else if (roll >= 0.92 && structural && room() >= 2) {
        // Update, then delete: the update event's lookup finds nothing.
        note(c, picked.doc, picked.index);
        await update(c, picked.doc);
        await remove(c, picked.doc);
        stats.racedWrites++;
      } else {
        if (roll >= 0.58) stats.heldBack++;
        note(c, picked.doc, picked.index);
        await update(c, picked.doc);
      }
    };
    while (room() > 0 && (await due())) await exclusive(step);
    stats.deletedBeforeRead = deletedBeforeRead.size;
    stats.seconds = (performance.now() - t0) / 1000;
    return stats;
  }

  const sourceEvents = () => sourceEventKeys(standIn().client, DATABASE, startToken);

  /** (c) The lake's change events (not snapshot rows) against the stand-in's, each exactly once (distinct seqs). */
  async function compareEvents(lake: ChangeEnvelope[]): Promise<{ source: number; lake: number; missing: string[]; extra: string[]; twice: string[] }> {
    const source = await sourceEvents();
    const seqsOf = new Map<string, Set<number>>();
    for (const e of lake) {
      if (e.operation === 'snapshot') continue;
      const k = lakeEventKey(e);
      let s = seqsOf.get(k);
      if (!s) seqsOf.set(k, (s = new Set()));
      s.add(e.seq);
    }
    const inSource = new Set(source);
    const missing = source.filter((k) => !seqsOf.has(k));
    const extra = [...seqsOf.keys()].filter((k) => !inSource.has(k));
    const twice = [...seqsOf].filter(([, s]) => s.size > 1).map(([k, s]) => `${k} at seqs ${[...s].join(', ')}`);
    return { source: source.length, lake: seqsOf.size, missing, extra, twice };
  }

  /** (d) Per generation and collection: the current state computed from the lake by DuckDB against the server's. */
  async function compareStatesByDuckDb(s3: S3Client, bucket: string, prefix: string, generations: number[], server: CollectionsState) {
    const lines: string[] = [];
    let ok = generations.length === 1;
    let documents = 0;
    let rows = 0;
    const dir = mkdtempSync(join(tmpdir(), 'runnel-snapshot-chaos-'));
    try {
      // The state of the generation the lake holds (a healthy run has exactly one).
      const generation = generations.at(-1) ?? 1;
      const objects = await downloadLakeObjects(s3, bucket, prefix, { stream: DATABASE, generation }, dir);
      for (const c of SEED_COLLECTIONS) {
        const namespace = `${NS_PREFIX}${c}`;
        const mine = server.get(namespace) ?? new Map<string, string>();
        documents += mine.size;
        try {
          const state = await currentStateFromLake({ dir }, { stream: DATABASE, generation, namespace });
          rows += state.rows;
          const d = diffStates(state.documents, mine);
          if (!d.equal) {
            ok = false;
            lines.push(`  ${namespace}: ${d.summary.split('\n').join('\n    ')}`);
          }
        } catch (err) {
          ok = false;
          lines.push(`  ${namespace}: the lake's state cannot be computed: ${(err as Error).message}`);
        }
      }
      lines.unshift(
        `state (DuckDB, ${objects} objects of generation ${generation}, ${rows} document rows): ${ok ? `= the server's ${documents} documents in ${SEED_COLLECTIONS.length} collections, document by document` : `DIFFERS from the server's ${documents} documents`}` +
          `${generations.length === 1 ? '' : ` (the lake holds generations ${generations.join(', ')}, one expected)`}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { ok, documents, lines };
  }

  /** The lake's snapshot rows against what the source knows, for diagnosis and the check. */
  function snapshotChecks(envelopes: ChangeEnvelope[], onServer: Set<DocumentRef>): SnapshotLakeChecks {
    const mustRead = new Map<DocumentRef, number | null>();
    for (const [ref, j] of seededIndex) if (!deletedBeforeRead.has(ref)) mustRead.set(ref, touched.has(ref) ? null : j);
    return checkSnapshotRows(envelopes, { database: DATABASE, mustRead, deletedBeforeRead, onServer, seeded: (j) => canonicalEjson(seededDocument(seed, j, textBytes)) });
  }

  const killMidSnapshot: ChaosScenario = {
    name: 'kill-mid-snapshot',
    at: 0,
    async run(h) {
      const rows = expectedRows();
      const found = await eventually('the snapshot to be mid-way with rows in S3', async () => {
        const holder = await holderOf(h);
        if (!holder) return undefined;
        learn(holder.ready);
        const s = holder.ready.snapshot;
        if (known.handedOff) return { late: true as const, ...holder };
        return s?.phase === 'reading' && holder.ready.checkpointSeq > 0 ? { late: false as const, ...holder } : undefined;
      }, 60_000, 50);
      if (found.late) throw new Error(`the snapshot was over before kill-mid-snapshot ran (checkpoint ${found.ready.checkpointSeq} of ${rows} rows): seed more documents`);
      // Deleted just before the kill: the next holder must not emit them either.
      const doomed = await deleteUnread(h, found.reader, Math.max(3, Math.round(o.documents / 4000)));
      const at = (await readerReady(found.reader)) ?? found.ready;
      const s = at.snapshot as SnapshotStatus;
      const reading = SEED_COLLECTIONS.filter((c) => collectionStatus(s, c)?.state === 'reading').map((c) => `${c} at row ${collectionStatus(s, c).rows}`);
      await h.stopReader(found.reader);
      h.startReader(found.reader);
      // The next holder (the standby, or the restarted one) resumes at the checkpoint: its progress
      // counts from the checkpointed row, never from 0.
      const resumed = await eventually('a reader to resume the snapshot', async () => {
        const holder = await holderOf(h);
        return holder && holder.ready.checkpointSeq >= at.checkpointSeq && (holder.ready.snapshot || holder.ready.checkpointSeq >= rows) ? holder : undefined;
      }, 60_000, 50);
      const again = resumed.ready.snapshot;
      if (again?.phase === 'reading' && again.rows < at.checkpointSeq) {
        throw new Error(`${resumed.reader.name} restarted the snapshot: ${again.rows} rows counted after the kill at checkpoint ${at.checkpointSeq}`);
      }
      return (
        `${found.reader.name} killed -9 at checkpoint seq ${at.checkpointSeq} (read seq ${at.readSeq}; ${s.rows} of ${rows} rows emitted; reading ${reading.join(', ') || '–'})` +
        `${doomed.deleted ? `, ${doomed.deleted} unread documents of ${doomed.collections.join(', ')} deleted just before` : ''}; ` +
        `${resumed.reader.name} resumed: ${again ? `phase ${again.phase}, rows counted from ${again.rows}` : 'snapshot already over'}, checkpoint ${resumed.ready.checkpointSeq}`
      );
    },
  };

  /** Seconds of rows left before the handoff, at the rate the holder emits them (undefined until two samples apart). */
  const secondsToHandoff = (): number | undefined => {
    const last = progress.at(-1);
    const first = progress.find((p) => last !== undefined && last.t - p.t <= 5000);
    if (!last || !first || last.t - first.t < 500 || last.rows <= first.rows) return undefined;
    return (expectedRows() - last.rows) / ((last.rows - first.rows) / ((last.t - first.t) / 1000));
  };
  /** Close enough to the handoff that the kill loop's next turn (1–3 s) might miss it. */
  const nearHandoff = () => known.handedOff || (secondsToHandoff() ?? Number.POSITIVE_INFINITY) < 6;

  const killAtHandoff: ChaosScenario = {
    name: 'kill-at-handoff',
    at: 0.01,
    // The kill loop asks: random kills (services, Redis, S3) go on until the handoff is near.
    due: async () => nearHandoff(),
    async run(h) {
      const rows = expectedRows();
      const deadline = Date.now() + 180_000;
      let seen: { reader: ReaderReplica; ready: Ready } | undefined;
      let killedMeanwhile = 0;
      let nextKill = Date.now() + 1000 + h.random() * 2000;
      // Polled often: the handoff is one moment, and the kill should land right on it.
      for (;;) {
        if (Date.now() > deadline) throw new Error(`the snapshot did not hand over within 180 s: ${JSON.stringify(seen?.ready)}`);
        seen = await holderOf(h);
        learn(seen?.ready);
        const s = seen?.ready.snapshot;
        if (seen && s && s.phase !== 'reading') break;
        // No snapshot in a term that starts past the last row (a term inside the snapshot shows one, once it has begun).
        if (seen && !s && seen.ready.checkpointSeq > rows) throw new Error(`the snapshot was over before kill-at-handoff ran (${seen.reader.name} reads with no snapshot in its term, checkpoint ${seen.ready.checkpointSeq} of ${rows} rows): seed more documents`);
        // While the handoff is far (a kill loop that does not ask `due` starts this early), readers
        // keep being killed as the loop would: each kill is another resume inside the snapshot.
        if (!nearHandoff() && Date.now() >= nextKill) {
          const victim = h.readers[Math.floor(h.random() * h.readers.length)];
          await h.stopReader(victim);
          h.startReader(victim);
          killedMeanwhile++;
          nextKill = Date.now() + 1000 + h.random() * 2000;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      const { reader, ready } = seen;
      await h.stopReader(reader);
      h.startReader(reader);
      handoffRows = ready.snapshot?.rows;
      known.handedOff = true;
      const on = await eventually('a reader to go on past the last row', async () => {
        const holder = await holderOf(h);
        return holder && holder.ready.checkpointSeq > rows ? holder : undefined;
      }, 120_000, 100);
      return (
        `${reader.name} killed -9 the moment it reported phase ${ready.snapshot?.phase} (${ready.snapshot?.rows} rows emitted, ${rows} expected; read seq ${ready.readSeq}, checkpoint ${ready.checkpointSeq}); ` +
        `${on.reader.name} went on past the last row (checkpoint ${on.ready.checkpointSeq})${killedMeanwhile ? `; ${killedMeanwhile} readers killed -9 mid-snapshot while it waited` : ''}`
      );
    },
  };

  return {
    name: 'snapshot',
    replicas: o.replicas ?? 2,
    scenarios: [killMidSnapshot, killAtHandoff],
    async start() {
      mongo = await MongoStandIn.start({});
      client = new MongoClient(mongo.uri, { appName: 'runnel-chaos-snapshot' });
      await client.connect();
      await seedDocuments();
    },
    readerEnv: () => ({
      ...standInReaderEnv(standIn().mongo.uri, DATABASE),
      SNAPSHOT_MODE: 'initial',
      SNAPSHOT_CHUNK_SIZE: String(chunkSize),
      SNAPSHOT_PARALLELISM: String(parallelism),
      CHANNEL_BUFFER_SIZE: String(bufferSize),
    }),
    async begin(h: ChaosHarness) {
      h.log(`chaos: seeded ${o.documents} documents in ${SEED_COLLECTIONS.length} collections in ${seedSeconds.toFixed(1)} s`);
      const first = await eventually('a reader to record the snapshot position', async () => {
        const holder = await holderOf(h);
        return holder?.ready.hasPosition ? holder.reader : undefined;
      }, 60_000, 50);
      // The position the source's own event list starts from: nothing has written since the seeding.
      startToken = await currentResumeToken(standIn().client, DATABASE);
      const doomed = await deleteUnread(h, first, Math.max(5, Math.round(o.documents / 1000)));
      poller = setInterval(() => {
        for (const r of h.readers) void readerReady(r, 1000).then(learn);
      }, 200);
      h.log(`chaos: ${first.name} snapshots from its position (${expectedRows()} rows expected after ${doomed.deleted} deletes ahead of it); the writer starts (${o.events} events at ${o.rate}/s)`);
      writing = write(writer.signal);
      writing.catch(() => undefined);
    },
    async expectedEvents() {
      if (!writing) throw new Error('the writer never started');
      report = await writing;
      if (poller) clearInterval(poller);
      return expectedRows() + report.events;
    },
    async check(s3: S3Client, bucket: string, prefix: string): Promise<SourceCheck> {
      const envelopes = await readLakeEnvelopes(s3, bucket, prefix, DATABASE);
      const generations = [...new Set(envelopes.map((e) => e.generation))].sort((a, b) => a - b);
      const server = await serverCollectionState(standIn().client, DATABASE, [...SEED_COLLECTIONS]);
      const onServer = new Set<DocumentRef>();
      for (const [ns, docs] of server) for (const key of docs.keys()) onServer.add(`${ns.slice(NS_PREFIX.length)}|${key}`);
      const rows = snapshotChecks(envelopes, onServer);
      const ev = await compareEvents(envelopes);
      const eventsOk = ev.missing.length === 0 && ev.extra.length === 0 && ev.twice.length === 0 && ev.source === (report?.events ?? -1);
      const state = await compareStatesByDuckDb(s3, bucket, prefix, generations, server);
      const w = report;
      const findings = [rows.onePerDocument, rows.exactRowSet, rows.noRowForDeleted, rows.rowsBeforeEvents, rows.untouched];
      const lines = [
        `seeded: ${o.documents} documents (${SEED_COLLECTIONS.join(', ')}; mixed _id types) in ${seedSeconds.toFixed(1)} s; ${deletedBeforeRead.size} deleted before the snapshot reached them; ${expectedRows()} rows expected`,
        w
          ? `writer: ${w.events} change events in ${w.seconds.toFixed(1)} s: ${w.inserts} inserts, ${w.updates} updates, ${w.replaces} replaces, ${w.deletes} deletes (${w.racedWrites} raced by a second write); ` +
            `seeded documents written after their chunk was read ${w.writesOfReadDocuments}, before ${w.writesOfUnreadDocuments}; ${w.heldBack} inserts/deletes held back to updates while the snapshot had not passed the collection`
          : 'writer: not run',
        `rows: ${JSON.stringify(rows.rowsPerGeneration)} per generation; /ready said ${handoffRows ?? '–'} rows at the handoff${handoffRows !== undefined && handoffRows !== expectedRows() ? ` (≠ ${expectedRows()} expected)` : ''}`,
        ...findings.flatMap((f) => [`${f.ok ? 'ok' : 'FAILED'}: ${f.line}`, ...f.samples.map((x) => `  ${x}`)]),
        `${eventsOk ? 'ok' : 'FAILED'}: events: ${ev.source} on the stand-in since the position (the writer caused ${w?.events ?? '?'}); ` +
          (ev.missing.length === 0 && ev.extra.length === 0 && ev.twice.length === 0 ? 'each exactly once in the lake (by cluster time, collection and key)' : `${ev.missing.length} NOT in the lake, ${ev.extra.length} in the lake only, ${ev.twice.length} at more than one seq`),
        ...[...ev.missing, ...ev.extra, ...ev.twice].slice(0, 10).map((x) => `  ${x}`),
        ...state.lines.map((l, i) => (i === 0 ? `${state.ok ? 'ok' : 'FAILED'}: ${l}` : l)),
      ];
      return {
        ok: rows.ok && eventsOk && state.ok && generations.length === 1 && handoffRows === expectedRows(),
        lines,
        details: { writer: w, seeded: o.documents, deletedBeforeRead: deletedBeforeRead.size, expectedRows: expectedRows(), handoffRows, generations, rows, events: ev, state: { ok: state.ok, documents: state.documents } },
      };
    },
    async diagnose(s3: S3Client, bucket: string, prefix: string) {
      const envelopes = await readLakeEnvelopes(s3, bucket, prefix, DATABASE);
      const ev = await compareEvents(envelopes);
      const rows = snapshotChecks(envelopes, new Set(seededIndex.keys()));
      const rowSeqs = new Set(envelopes.filter((e) => e.operation === 'snapshot').map((e) => e.seq));
      return [
        `snapshot rows in the lake: ${rowSeqs.size} (expected ${expectedRows()}); ${rows.exactRowSet.line}`,
        ...rows.exactRowSet.samples.map((x) => `  ${x}`),
        `events: ${ev.source} on the stand-in, ${ev.missing.length} not in the lake, ${ev.extra.length} in the lake only`,
        ...[...ev.missing, ...ev.extra].slice(0, 20).map((x) => `  ${x}`),
      ];
    },
    async stop() {
      if (poller) clearInterval(poller);
      writer.abort();
      await writing?.catch(() => undefined);
      await client?.close().catch(() => undefined);
      await mongo?.stop();
    },
  };
}
