/**
 * The documents the snapshot benchmark moves: N inserts of about --doc-bytes BSON bytes each, written
 * through the real driver into the MongoDB stand-in. Both stand-in variants of the comparison write
 * exactly these (same seed, same ids, same bytes): `standin` reads them back as N insert change
 * events from the oplog, `standin-snapshot` as N snapshot rows from the collections. The mixed
 * workload (tools/mongo/workload.ts: updates, replaces, deletes, at most 1,000 live documents per
 * collection) cannot serve here: what it leaves in the collections is not what its events carry.
 *
 * Deterministic: the documents depend only on the options. Document i goes to collection
 * i mod |collections|; ids by the collection's position as in the workload (integers, strings,
 * ObjectIds, repeating), so a snapshot walks the `_id` index of three BSON types.
 */
import { BSON, MongoClient, ObjectId, type Document } from 'mongodb';
import { filler, typedFields } from '../../mongo/workload';

export interface StandInDocumentsOptions {
  uri: string;
  database: string;
  collections: string[];
  count: number;
  /** Pad each document with a `payload` string to about this many BSON bytes. */
  documentBytes: number;
  seed?: number;
  /** Documents per insertMany round over all collections (default 3,000: ~1,000 per collection). */
  round?: number;
}

export interface StandInDocumentsReport {
  documents: number;
  perCollection: Record<string, number>;
  /** Mean BSON size of a document. */
  meanBsonBytes: number;
  seconds: number;
}


/** The id of a collection's n-th document (from 1), by the collection's kind (its position mod 3). */
function documentId(collection: string, kind: number, n: number, seed: number): number | string | ObjectId {
  if (kind === 0) return n;
  if (kind === 1) return `${collection.slice(0, 1)}-${String(n).padStart(6, '0')}`;
  return new ObjectId((seed >>> 0).toString(16).padStart(8, '0') + String(kind).padStart(4, '0') + n.toString(16).padStart(12, '0'));
}

/** The documents, in insertion order, as [collection, document] pairs. */
export function* standInDocuments(o: Omit<StandInDocumentsOptions, 'uri' | 'database' | 'round'>): Generator<[string, Document]> {
  const seed = o.seed ?? 1;
  const fill = filler(seed);
  const next = o.collections.map(() => 1);
  for (let k = 1; k <= o.count; k++) {
    const c = (k - 1) % o.collections.length;
    const name = o.collections[c];
    const doc: Document = { _id: documentId(name, c % 3, next[c]++, seed), ...typedFields(k, 1) };
    const missing = o.documentBytes - BSON.calculateObjectSize(doc) - 16;
    if (missing > 0) doc['payload'] = fill(k, missing);
    yield [name, doc];
  }
}

/** Inserts the documents (insertMany per collection, round by round); resolves with what it wrote. */
export async function insertStandInDocuments(o: StandInDocumentsOptions): Promise<StandInDocumentsReport> {
  const t0 = performance.now();
  const client = new MongoClient(o.uri, { appName: 'runnel-bench-documents' });
  const round = o.round ?? 3000;
  const perCollection: Record<string, number> = Object.fromEntries(o.collections.map((c) => [c, 0]));
  let bytes = 0;
  let documents = 0;
  try {
    await client.connect();
    const db = client.db(o.database);
    let pending = new Map<string, Document[]>();
    const flush = async () => {
      for (const [name, docs] of pending) {
        const r = await db.collection(name).insertMany(docs, { ordered: true });
        if (r.insertedCount !== docs.length) throw new Error(`insertMany into ${name}: ${r.insertedCount} of ${docs.length} inserted`);
        perCollection[name] += docs.length;
        documents += docs.length;
      }
      pending = new Map();
    };
    let inRound = 0;
    for (const [name, doc] of standInDocuments(o)) {
      bytes += BSON.calculateObjectSize(doc);
      const list = pending.get(name) ?? [];
      list.push(doc);
      pending.set(name, list);
      if (++inRound >= round) {
        await flush();
        inRound = 0;
      }
    }
    await flush();
  } finally {
    await client.close().catch(() => undefined);
  }
  return { documents, perCollection, meanBsonBytes: documents ? bytes / documents : 0, seconds: (performance.now() - t0) / 1000 };
}
