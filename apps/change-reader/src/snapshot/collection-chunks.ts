import { BSON, EJSON } from 'bson';
import type { Collection, Document, MongoClient, Timestamp } from 'mongodb';
import { EXACT_BSON } from '../sources/exact-bson-cursors';
import { documentKeyOf } from './document-key';

/** One chunk of a collection in `_id` order. */
export interface CollectionChunk {
  /** The documents, in the `_id` index's (BSON) order, values as the server stored them (EXACT_BSON). */
  readonly rows: Document[];
  /** `_id` of the last row: where the next chunk starts (exclusive). Undefined when the chunk is empty. */
  readonly lastId: unknown;
  /** No document after this chunk (the chunk had fewer rows than asked for). */
  readonly done: boolean;
  /** Each row's BSON as the server sent it (stored as is, so a stored chunk costs no re-encoding). */
  readonly raw: Uint8Array[];
}

/**
 * Reads the `size` documents after `afterId` (exclusive; from the start when undefined) in the
 * `_id` index's order. A `$gt` query cannot walk a collection whose `_id`s have several BSON types
 * (MongoDB compares only within a type bracket), so the index scan is bounded with `min` (inclusive,
 * across brackets) and `hint`, and the row equal to `afterId` is dropped. A document inserted behind
 * the position is not returned (its insert event is in the stream); one deleted ahead is simply absent.
 */
export async function readChunk(collection: Collection, afterId: unknown, size: number): Promise<CollectionChunk> {
  const options = {
    ...EXACT_BSON,
    // From the primary, whatever the URI's readPreference: a secondary that lags could return a
    // document older than the stream position P, and no event after P would correct it.
    readPreference: 'primary' as const,
    hint: { _id: 1 },
    sort: { _id: 1 } as const,
    limit: afterId === undefined ? size : size + 1,
    batchSize: Math.min(size + 1, 10_000),
    ...(afterId === undefined ? {} : { min: { _id: afterId } }),
  };
  // raw: each document's bytes, decoded here with the same exact-type options the cursor would use.
  let raw = (await collection.find({}, { ...options, raw: true }).toArray()) as unknown as Uint8Array[];
  let rows = raw.map((b) => BSON.deserialize(b, EXACT_BSON));
  if (afterId !== undefined && rows.length > 0 && documentKeyOf(rows[0]._id) === documentKeyOf(afterId)) [rows, raw] = [rows.slice(1), raw.slice(1)];
  else if (rows.length > size) [rows, raw] = [rows.slice(0, size), raw.slice(0, size)];
  return { rows, raw, lastId: rows.length ? rows[rows.length - 1]._id : undefined, done: rows.length < size };
}

/** readChunk after a chunk key (canonical EJSON of `{_id}`, as document-key.ts spells it; null: from the start). */
export function readChunkAfter(collection: Collection, after: string | null, size: number): Promise<CollectionChunk> {
  return readChunk(collection, after === null ? undefined : (EJSON.parse(after, { relaxed: false }) as { _id: unknown })._id, size);
}

/** The server's cluster time now (`<seconds>.<increment>`), from a ping's operationTime; undefined if it gives none. */
export async function serverClusterTime(client: MongoClient): Promise<string | undefined> {
  const reply = await client.db('admin').command({ ping: 1 });
  const t = (reply['operationTime'] ?? reply['$clusterTime']?.clusterTime) as Timestamp | undefined;
  return t ? `${t.high >>> 0}.${t.low >>> 0}` : undefined;
}
