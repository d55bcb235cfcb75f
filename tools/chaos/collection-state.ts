import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { EJSON } from 'bson';
import type { Document, MongoClient } from 'mongodb';
import { type ChangeEnvelope, decodeObject, parseObjectKey } from '@runnel/lake';

/** Collection `db.coll` → document `_id` (canonical EJSON) → the document (canonical EJSON). */
export type CollectionState = Map<string, Map<string, string>>;

const canonical = (value: unknown) => EJSON.stringify(value as Document, { relaxed: false });
/** EJSON text as the lake holds it → the same value as canonical EJSON (one spelling per value). */
const recanonical = (text: string) => canonical(EJSON.parse(text, { relaxed: false }));

/**
 * The collections' current state computed from the lake: every event of `stream` under `prefix`,
 * in (generation, seq) order; an insert, replace or update with a document sets the `_id`'s
 * version, a delete removes it, an update whose lookup found nothing (deleted since) changes
 * nothing (the delete follows). Needs `fullDocument: updateLookup` (or post-images) to be complete.
 */
// TODO(issue 8): switch to libs/lake's lake-state once it lands.
export async function lakeCollectionState(s3: S3Client, bucket: string, prefix: string, stream: string): Promise<CollectionState> {
  const events: (ChangeEnvelope & { generation?: number })[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
    for (const item of page.Contents ?? []) {
      const parsed = parseObjectKey(item.Key!);
      if (!parsed || parsed.stream !== stream) continue;
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: item.Key! }));
      for (const e of decodeObject(Buffer.from(await res.Body!.transformToByteArray()), parsed.extension)) events.push({ ...e, generation: parsed.generation });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  events.sort((a, b) => (a.generation ?? 1) - (b.generation ?? 1) || a.seq - b.seq);
  const state: CollectionState = new Map();
  for (const e of events) {
    if (!e.collection || !e.document_key) continue;
    const ns = `${e.database}.${e.collection}`;
    let docs = state.get(ns);
    if (!docs) state.set(ns, (docs = new Map()));
    const id = canonical((EJSON.parse(e.document_key, { relaxed: false }) as Document)['_id']);
    if (e.operation === 'delete') docs.delete(id);
    else if ((e.operation === 'insert' || e.operation === 'replace' || e.operation === 'update') && e.full_document !== null) docs.set(id, recanonical(e.full_document));
  }
  return state;
}

/** The same from the server, through the driver (`find()` of every collection, BSON types kept as they are). */
export async function serverCollectionState(client: MongoClient, database: string, collections: string[]): Promise<CollectionState> {
  const state: CollectionState = new Map();
  for (const name of collections) {
    const docs = new Map<string, string>();
    // promoteValues: false keeps int32, double and int64 as their BSON types, so a double 5.0 and an int 5 differ.
    for await (const d of client.db(database).collection(name).find({}, { promoteValues: false, promoteLongs: false, promoteBuffers: false })) docs.set(canonical(d['_id']), canonical(d));
    state.set(`${database}.${name}`, docs);
  }
  return state;
}

export interface StateComparison {
  equal: boolean;
  /** Documents on the server. */
  documents: number;
  /** Documents on the server that the lake lacks, that it has in another version, and that it has but the server does not. */
  missing: number;
  different: number;
  extra: number;
  /** The first few differences, for the report. */
  samples: string[];
}

/** Document by document, as canonical EJSON text (field order and BSON types included). */
export function compareStates(lake: CollectionState, server: CollectionState): StateComparison {
  const c: StateComparison = { equal: true, documents: 0, missing: 0, different: 0, extra: 0, samples: [] };
  const note = (line: string) => c.samples.length < 5 && c.samples.push(line);
  const short = (s: string | undefined) => (s && s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
  for (const ns of new Set([...lake.keys(), ...server.keys()])) {
    const l = lake.get(ns) ?? new Map<string, string>();
    const s = server.get(ns) ?? new Map<string, string>();
    for (const [id, doc] of s) {
      c.documents++;
      const mine = l.get(id);
      if (mine === undefined) {
        c.missing++;
        note(`${ns} ${id}: on the server, not in the lake's state`);
      } else if (mine !== doc) {
        c.different++;
        let at = 0;
        while (at < doc.length && doc[at] === mine[at]) at++;
        note(`${ns} ${id}: differs from character ${at}: server ${short(doc.slice(Math.max(0, at - 40), at + 80))} / lake ${short(mine.slice(Math.max(0, at - 40), at + 80))}`);
      }
    }
    for (const id of l.keys()) {
      if (!s.has(id)) {
        c.extra++;
        note(`${ns} ${id}: in the lake's state, not on the server`);
      }
    }
  }
  c.equal = c.missing === 0 && c.different === 0 && c.extra === 0;
  return c;
}
