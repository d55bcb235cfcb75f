import { EJSON } from 'bson';
import type { ChangeEnvelope } from './change-envelope';

/** Canonical Extended JSON text: one spelling per BSON value, types included (a double 5.0 is not an int 5). */
export function canonicalEjson(value: unknown): string {
  return EJSON.stringify(value as Record<string, unknown>, { relaxed: false });
}

/** `db.coll` → document `_id` (canonical EJSON) → the document (canonical EJSON). */
export type CollectionsState = Map<string, Map<string, string>>;

/** A document whose latest event in the lake carried no version of it. */
export interface UnknownDocument {
  namespace: string;
  /** The `_id`, canonical EJSON. */
  id: string;
  /** The event that left it unknown. */
  operation: string;
  generation: number;
  seq: number;
}

export interface LakeState {
  /**
   * The collections as the lake says they are now, comparable with the server's `find()` of each
   * collection (every document as canonicalEjson, keyed by canonicalEjson of its `_id`). A
   * collection whose documents were all deleted is an empty map; a dropped one is absent.
   */
  collections: CollectionsState;
  /**
   * Documents whose latest event is an update (or a replace/insert) without a full document: no
   * lookup was asked for, or it found the document already deleted. `collections` keeps the
   * previous version, if any; the lake cannot say what the document holds now.
   */
  unknown: UnknownDocument[];
  /** Events read, and those that changed nothing the state holds (invalidate, createIndexes, …). */
  events: number;
  ignored: number;
}

/** Thrown by lakeState for events of more than one stream: seqs of different streams do not order each other. */
export class SeveralStreamsError extends Error {
  constructor(streams: string[]) {
    super(`lakeState needs the events of one stream, got ${streams.map((s) => JSON.stringify(s)).join(', ')}: pass readLakeEnvelopes a stream`);
    this.name = 'SeveralStreamsError';
  }
}

/** Thrown by lakeState for a document event whose document_key has no `_id`. */
export class UnplaceableEventError extends Error {
  constructor(e: ChangeEnvelope) {
    super(`event generation ${e.generation} seq ${e.seq} (${e.operation} on ${e.database}.${e.collection}) has no document_key._id`);
    this.name = 'UnplaceableEventError';
  }
}

// Rows that carry the document as it then was (a snapshot row is the document as the snapshot read it).
const DOCUMENT_WRITES: ReadonlySet<string> = new Set(['insert', 'replace', 'update', 'snapshot']);

/**
 * The collections' current state computed from the lake alone: one stream's events in
 * (generation, seq) order — a later generation follows every event of an earlier one — and per
 * namespace and `_id` the latest event wins. insert/replace/update set the document to
 * full_document; delete removes it; drop removes the collection, dropDatabase every collection of
 * the database; rename moves the collection to to_namespace (replacing what was there, as
 * renameCollection with dropTarget does).
 *
 * This is the "lake state = source state" check of the chaos run: with `fullDocument:
 * updateLookup` an update's full_document is the document when the event was read, so the last
 * event's version is the document's current one.
 */
export function lakeState(events: Iterable<ChangeEnvelope>): LakeState {
  const ordered = [...events];
  const streams = [...new Set(ordered.map((e) => e.stream))];
  if (streams.length > 1) throw new SeveralStreamsError(streams);
  ordered.sort((a, b) => a.generation - b.generation || a.seq - b.seq);

  const collections: CollectionsState = new Map();
  // namespace → _id → the event that left it unknown
  const unknown = new Map<string, Map<string, UnknownDocument>>();
  const docsOf = (ns: string) => {
    let docs = collections.get(ns);
    if (!docs) collections.set(ns, (docs = new Map()));
    return docs;
  };
  const dropNamespace = (ns: string) => {
    collections.delete(ns);
    unknown.delete(ns);
  };
  let ignored = 0;

  for (const e of ordered) {
    const ns = e.collection === null ? null : `${e.database}.${e.collection}`;
    if (ns !== null && (DOCUMENT_WRITES.has(e.operation) || e.operation === 'delete')) {
      const id = idOf(e);
      const docs = docsOf(ns);
      const unknownHere = unknown.get(ns);
      if (e.operation === 'delete') {
        docs.delete(id);
        unknownHere?.delete(id);
      } else if (e.full_document !== null) {
        docs.set(id, canonicalEjson(EJSON.parse(e.full_document, { relaxed: false })));
        unknownHere?.delete(id);
      } else {
        let marks = unknownHere;
        if (!marks) unknown.set(ns, (marks = new Map()));
        marks.set(id, { namespace: ns, id, operation: e.operation, generation: e.generation, seq: e.seq });
      }
    } else if (ns !== null && e.operation === 'drop') {
      dropNamespace(ns);
    } else if (ns !== null && e.operation === 'rename' && e.to_namespace !== null) {
      const target = e.to_namespace;
      const moved = collections.get(ns) ?? new Map<string, string>();
      const movedUnknown = unknown.get(ns);
      dropNamespace(ns);
      dropNamespace(target);
      collections.set(target, moved);
      if (movedUnknown) unknown.set(target, new Map([...movedUnknown].map(([id, u]) => [id, { ...u, namespace: target }])));
    } else if (ns !== null && e.operation === 'create') {
      docsOf(ns);
    } else if (e.operation === 'dropDatabase') {
      for (const name of [...collections.keys(), ...unknown.keys()]) if (name.startsWith(`${e.database}.`)) dropNamespace(name);
    } else {
      ignored++;
    }
  }
  return { collections, unknown: [...unknown.values()].flatMap((m) => [...m.values()]), events: ordered.length, ignored };
}

function idOf(e: ChangeEnvelope): string {
  const key = e.document_key === null ? undefined : (EJSON.parse(e.document_key, { relaxed: false }) as Record<string, unknown>);
  if (!key || !('_id' in key)) throw new UnplaceableEventError(e);
  return canonicalEjson(key._id);
}
