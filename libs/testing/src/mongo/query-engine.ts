import type { Document } from 'bson';
import type { StoredCollection } from './catalog';
import { compareValues, isPlainDocument, toNumber, typeRank } from './bson-values';
import { getPath } from './document-paths';
import { compileFilter } from './query-matcher';
import { ServerError } from './server-error';

/**
 * Runs a query over a collection: filter, sort, skip, limit. Scans by `_id` use the collection's
 * sorted `_id` keys: an `_id` range (`{_id: {$gt: last}}`, the chunked read a snapshot does) with
 * a sort on `_id` starts at the bound by binary search and stops at the limit, instead of sorting
 * the whole collection per chunk. Equality and `$in` on `_id` are direct lookups. Other sorts
 * sort the matches; no sort is insertion order ("natural" order).
 */
export interface QuerySpec {
  filter?: Document;
  sort?: Document;
  skip?: number;
  /** 0 or undefined: no limit. */
  limit?: number;
}

export function runQuery(c: StoredCollection | undefined, q: QuerySpec): Document[] {
  if (!c) return [];
  const predicate = compileFilter(q.filter);
  const skip = Math.max(0, q.skip ?? 0);
  const limit = q.limit && q.limit > 0 ? q.limit : Number.POSITIVE_INFINITY;
  const want = skip + limit;
  const sortKeys = parseSort(q.sort);
  const idOnlySort = sortKeys.length === 0 || (sortKeys.length === 1 && sortKeys[0].path.join('.') === '_id');
  const natural = sortKeys.length === 1 && sortKeys[0].natural;
  const id = q.filter?.['_id'];

  let out: Document[];
  const direct = idLookup(c, id);
  if (direct && !natural) {
    out = direct.filter(predicate);
    if (sortKeys.length > 0) out.sort(comparator(sortKeys));
    return out.slice(skip, want);
  }
  if (idOnlySort && !natural && sortKeys.length === 1) {
    out = [];
    const keys = c.sortedKeys();
    const [from, to] = idRange(c, keys, id);
    const dir = sortKeys[0].dir;
    for (let i = dir > 0 ? from : to - 1; dir > 0 ? i < to : i >= from; i += dir) {
      const doc = c.docs.get(keys[i])!;
      if (predicate(doc)) {
        out.push(doc);
        if (out.length >= want) break;
      }
    }
    return out.slice(skip);
  }
  out = [];
  const reverse = natural && sortKeys[0].dir < 0;
  const docs = reverse ? [...c.docs.values()].reverse() : c.docs.values();
  for (const doc of docs) {
    if (predicate(doc)) {
      out.push(doc);
      if (sortKeys.length === 0 || natural) {
        if (out.length >= want) break;
      }
    }
  }
  if (sortKeys.length > 0 && !natural) out.sort(comparator(sortKeys));
  return out.slice(skip, want);
}

interface SortKey {
  path: string[];
  dir: 1 | -1;
  natural: boolean;
}

function parseSort(sort: Document | undefined): SortKey[] {
  if (!sort) return [];
  return Object.entries(sort).map(([k, v]) => {
    if (isPlainDocument(v)) throw new ServerError(2, `$meta sort is not supported by the stand-in (field ${k})`);
    const n = toNumber(v);
    if (n !== 1 && n !== -1) throw new ServerError(15974, `Illegal key in $sort specification: ${k}: ${String(v)}`);
    return { path: k.split('.'), dir: n as 1 | -1, natural: k === '$natural' };
  });
}

export function comparator(keys: { path: string[]; dir: number }[]): (a: Document, b: Document) => number {
  return (a, b) => {
    for (const k of keys) {
      const c = compareValues(sortValue(a, k.path, k.dir), sortValue(b, k.path, k.dir));
      if (c !== 0) return c * k.dir;
    }
    return 0;
  };
}

/** An array sorts by its smallest element ascending and its largest descending, as on the server. */
function sortValue(doc: Document, path: string[], dir: number): unknown {
  const v = getPath(doc, path);
  if (!Array.isArray(v) || v.length === 0) return Array.isArray(v) ? undefined : v;
  return v.reduce((m, x) => (compareValues(x, m) * dir < 0 ? x : m));
}

const isOps = (v: unknown): v is Document => isPlainDocument(v) && Object.keys(v).length > 0 && Object.keys(v)[0].startsWith('$');

/** Documents for `_id: value` or `_id: {$in: [...]}` (or `$eq`), or undefined when it is not that shape. */
function idLookup(c: StoredCollection, id: unknown): Document[] | undefined {
  if (id === undefined) return undefined;
  if (!isOps(id)) {
    if (isPlainDocument(id) || Array.isArray(id) || id === null) return undefined;
    const d = c.get(id);
    return d ? [d] : [];
  }
  const keys = Object.keys(id);
  if (keys.length === 1 && keys[0] === '$eq' && !isPlainDocument(id['$eq']) && !Array.isArray(id['$eq']) && id['$eq'] !== null) {
    const d = c.get(id['$eq']);
    return d ? [d] : [];
  }
  if (keys.length === 1 && keys[0] === '$in' && Array.isArray(id['$in']) && id['$in'].every((v) => !isPlainDocument(v) && !Array.isArray(v) && v !== null && typeRank(v) !== 12)) {
    const seen = new Set<Document>();
    for (const v of id['$in']) {
      const d = c.get(v);
      if (d) seen.add(d);
    }
    return [...seen];
  }
  return undefined;
}

/** The slice of the sorted `_id` keys a range condition on `_id` can match: [from, to). */
function idRange(c: StoredCollection, keys: string[], id: unknown): [number, number] {
  let from = 0;
  let to = keys.length;
  if (!isOps(id)) return [from, to];
  const idAt = (i: number) => c.docs.get(keys[i])!['_id'];
  // First index whose _id compares > (or >=) v.
  const lowerBound = (v: unknown, inclusive: boolean) => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const cmp = compareValues(idAt(mid), v);
      if (cmp < 0 || (cmp === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const bracket = (rank: number, end: boolean) => {
    // First index of the next type bracket (end) or of this one (start).
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = typeRank(idAt(mid));
      if (r < rank || (end && r === rank)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const [op, v] of Object.entries(id)) {
    const r = typeRank(v);
    const bounded = r !== 1 && r !== 100;
    if (op === '$gt' || op === '$gte') {
      from = Math.max(from, lowerBound(v, op === '$gte'));
      if (bounded) to = Math.min(to, bracket(r, true));
    } else if (op === '$lt' || op === '$lte') {
      to = Math.min(to, lowerBound(v, op === '$lt'));
      if (bounded) from = Math.max(from, bracket(r, false));
    }
  }
  return [from, Math.max(from, to)];
}
