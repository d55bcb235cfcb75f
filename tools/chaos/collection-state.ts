import type { MongoClient } from 'mongodb';
import { collectionState, type CollectionsState, diffStates } from '@runnel/lake';

/**
 * The collections on the server, through the driver (libs/lake's collectionState: `find()`, BSON types
 * and regex flags kept as stored), shaped as lakeState shapes the lake's: `db.coll` → `_id` → document.
 */
export async function serverCollectionState(client: MongoClient, database: string, collections: string[]): Promise<CollectionsState> {
  const state: CollectionsState = new Map();
  for (const name of collections) state.set(`${database}.${name}`, await collectionState(client.db(database).collection(name)));
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

/** Document by document, as canonical EJSON text (field order and BSON types included): libs/lake's diffStates per namespace. */
export function compareStates(lake: CollectionsState, server: CollectionsState): StateComparison {
  const c: StateComparison = { equal: true, documents: 0, missing: 0, different: 0, extra: 0, samples: [] };
  for (const ns of new Set([...lake.keys(), ...server.keys()])) {
    const s = server.get(ns) ?? new Map<string, string>();
    const d = diffStates(lake.get(ns) ?? new Map<string, string>(), s);
    c.documents += s.size;
    c.missing += d.missing.length;
    c.different += d.different.length;
    c.extra += d.extra.length;
    if (!d.equal && c.samples.length < 5) c.samples.push(`${ns}: ${d.summary}`);
  }
  c.equal = c.missing === 0 && c.different === 0 && c.extra === 0;
  return c;
}
