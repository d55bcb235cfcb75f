import { EJSON } from 'bson';
import type { Document, MongoClient, ResumeToken, Timestamp } from 'mongodb';
import { canonicalEjson, type ChangeEnvelope } from '@runnel/lake';

/**
 * Every change event the server has for `database` after `after`, as `cluster time|collection|
 * document key` (the big fields projected out, so no event needs splitting), read through the
 * driver until three empty batches in a row. Values as the server sent them: a double `_id` 2^53
 * promoted to a JS number would spell as an int64 and not match the lake's (right) double. (Those
 * options also decode error replies so, which breaks the driver's resume rules: the reader avoids
 * them; this one-shot read has no resume.)
 */
export async function sourceEventKeys(client: MongoClient, database: string, after: ResumeToken | undefined): Promise<string[]> {
  const cs = client.db(database).watch([{ $project: { fullDocument: 0, updateDescription: 0 } }], { resumeAfter: after, maxAwaitTimeMS: 100, promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true });
  const out: string[] = [];
  try {
    for (let idle = 0; idle < 3; ) {
      const e = (await cs.tryNext()) as (Document & { clusterTime: Timestamp }) | null;
      if (!e) {
        idle++;
        continue;
      }
      idle = 0;
      out.push(`${e.clusterTime.high >>> 0}.${e.clusterTime.low >>> 0}|${String(e['ns']?.coll)}|${canonicalEjson(e['documentKey'])}`);
    }
  } finally {
    await cs.close();
  }
  return out;
}

/** Where `database`'s change stream stands now (a source's own event list starts after it). */
export async function currentResumeToken(client: MongoClient, database: string): Promise<ResumeToken> {
  const cs = client.db(database).watch([], { maxAwaitTimeMS: 50 });
  try {
    await cs.tryNext();
    return cs.resumeToken;
  } finally {
    await cs.close();
  }
}

/** A lake event's key in sourceEventKeys' spelling. */
export const lakeEventKey = (e: ChangeEnvelope): string =>
  `${e.cluster_time}|${e.collection}|${e.document_key === null ? null : canonicalEjson(EJSON.parse(e.document_key, { relaxed: false }))}`;
