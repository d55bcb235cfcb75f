import type { MongoClient } from 'mongodb';
import { canonicalEjson, type CollectionsState } from '@runnel/lake';

/**
 * The collections on the server, through the driver (`find()` of every collection, BSON types kept as
 * they are), shaped as libs/lake's lakeState shapes the lake's: `db.coll` → `_id` → document, canonical EJSON.
 */
export async function serverCollectionState(client: MongoClient, database: string, collections: string[]): Promise<CollectionsState> {
  const state: CollectionsState = new Map();
  for (const name of collections) {
    const docs = new Map<string, string>();
    // promoteValues: false keeps int32, double and int64 as their BSON types, so a double 5.0 and an int 5 differ.
    for await (const d of client.db(database).collection(name).find({}, { promoteValues: false, promoteLongs: false, promoteBuffers: false })) docs.set(canonicalEjson(d['_id']), canonicalEjson(d));
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
export function compareStates(lake: CollectionsState, server: CollectionsState): StateComparison {
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
