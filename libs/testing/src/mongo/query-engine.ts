import type { Document } from 'bson';
import type { StoredCollection } from './catalog';
import { ArraySource, type DocSource } from './cursors';
import type { IdBound } from './id-index';
import { IdScan } from './index-scan';
import { compareValues, isPlainDocument, toNumber, typeRank } from './bson-values';
import { getPath } from './document-paths';
import { compileFilter } from './query-matcher';
import { ServerError } from './server-error';

/**
 * Runs a query over a collection: filter, sort, skip, limit, `hint`, and `min`/`max` index bounds.
 *
 * Reads that follow the `_id` index — a sort on `_id` (either direction), or `hint: {_id: 1}` /
 * `'_id_'` — scan the collection's IdIndex lazily (planQuery returns a live source: a cursor's
 * getMores read on from where it stopped, as a server's index scan does), starting at the tightest
 * bound: `min` (inclusive) and `max` (exclusive) bound the scan in pure BSON order with no type
 * bracketing, while a filter's `$gt/$gte/$lt/$lte` on `_id` bound it within the value's type
 * bracket (the filter itself still decides what matches). Equality and `$in` on `_id` are direct
 * lookups. A hint of another index reads in that index's key order (sorting, since the stand-in
 * keeps no secondary index data). Other sorts sort the matches; no sort is insertion ("natural")
 * order.
 *
 * Errors, as the server's planner answers them: a hint naming no index → 2 BadValue; min/max
 * without a hint → 51173; min/max whose fields are not the hinted index's key fields in order →
 * 51174; min not before max → 51175.
 */
export interface QuerySpec {
  filter?: Document;
  sort?: Document;
  skip?: number;
  /** 0 or undefined: no limit. */
  limit?: number;
  /** An index name, a key pattern, or `{$natural: ±1}`. */
  hint?: unknown;
  min?: Document;
  max?: Document;
  /** Applied to each document as it is returned. */
  project?: (d: Document) => Document;
}

export function runQuery(c: StoredCollection | undefined, q: QuerySpec): Document[] {
  const source = planQuery(c, q);
  if (source instanceof ArraySource) return source.docs as Document[];
  const out: Document[] = [];
  for (let d = source.next(); d; d = source.next()) out.push(d);
  return out;
}

type Hinted = { kind: 'none' } | { kind: 'natural'; dir: 1 | -1 } | { kind: 'index'; spec: Document; key: [string, number][] };

function plannerError(code: number, message: string): ServerError {
  return new ServerError(code, `error processing query: planner returned error :: caused by :: ${message}`);
}

function resolveHint(c: StoredCollection, hint: unknown): Hinted {
  if (hint === undefined || hint === null || (isPlainDocument(hint) && Object.keys(hint).length === 0) || hint === '') return { kind: 'none' };
  if (isPlainDocument(hint) && '$natural' in hint) return { kind: 'natural', dir: toNumber(hint['$natural']) < 0 ? -1 : 1 };
  const spec =
    typeof hint === 'string'
      ? c.indexes.find((i) => i['name'] === hint)
      : isPlainDocument(hint)
        ? c.indexes.find((i) => isPlainDocument(i['key']) && sameKeyPattern(i['key'], hint))
        : undefined;
  if (!spec) throw plannerError(2, 'hint provided does not correspond to an existing index');
  const key = Object.entries(spec['key'] as Document).map(([k, v]) => [k, typeof v === 'string' ? 1 : toNumber(v) < 0 ? -1 : 1] as [string, number]);
  return { kind: 'index', spec, key };
}

/** Key patterns compare as documents (names in order, values by BSON comparison: {_id: 1.0} is {_id: 1}). */
function sameKeyPattern(a: Document, b: Document): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && compareValues(a[k], b[k]) === 0);
}

/** min/max must name exactly the index's key fields, in order (the server's indexCompatibleMaxMin). */
function checkBound(bound: Document | undefined, key: [string, number][]): Document | undefined {
  if (!bound || Object.keys(bound).length === 0) return undefined;
  const names = Object.keys(bound);
  if (names.length !== key.length || names.some((n, i) => n !== key[i][0])) throw plannerError(51174, 'The index chosen is not compatible with min/max');
  return bound;
}

function compareKeys(a: unknown[], b: unknown[], key: [string, number][]): number {
  for (let i = 0; i < key.length; i++) {
    const c = compareValues(a[i], b[i]) * key[i][1];
    if (c !== 0) return c;
  }
  return 0;
}

/** The query's documents, in order, as a source a cursor reads from. */
export function planQuery(c: StoredCollection | undefined, q: QuerySpec): DocSource {
  if (!c) return new ArraySource([]);
  const hinted = resolveHint(c, q.hint);
  let min: Document | undefined;
  let max: Document | undefined;
  if ((q.min && Object.keys(q.min).length > 0) || (q.max && Object.keys(q.max).length > 0)) {
    if (hinted.kind !== 'index') throw plannerError(51173, 'When using min()/max() a hint of which index to use must be provided');
    min = checkBound(q.min, hinted.key);
    max = checkBound(q.max, hinted.key);
    if (min && max && compareKeys(Object.values(min), Object.values(max), hinted.key) >= 0) {
      throw plannerError(51175, 'The value provided for min() does not come before the value provided for max() in the hinted index');
    }
  }
  const predicate = compileFilter(q.filter);
  const skip = Math.max(0, q.skip ?? 0);
  const limit = q.limit && q.limit > 0 ? q.limit : Number.POSITIVE_INFINITY;
  const want = skip + limit;
  const sortKeys = parseSort(q.sort);
  const idSort = sortKeys.length === 1 && !sortKeys[0].natural && sortKeys[0].path.length === 1 && sortKeys[0].path[0] === '_id';
  const naturalSort = sortKeys.length === 1 && sortKeys[0].natural;
  const id = q.filter?.['_id'];
  const finish = (docs: Document[], sorted: boolean): DocSource => {
    if (!sorted && sortKeys.length > 0 && !naturalSort) docs.sort(comparator(sortKeys));
    const out = docs.slice(skip, want);
    return new ArraySource(q.project ? out.map(q.project) : out);
  };

  const onIdIndex = hinted.kind === 'index' && hinted.key.length === 1 && hinted.key[0][0] === '_id' && hinted.key[0][1] === 1;
  if (hinted.kind === 'none' || onIdIndex) {
    const direct = min || max ? undefined : idLookup(c, id);
    if (direct && !naturalSort) return finish(direct.filter(predicate), false);
  }
  if ((hinted.kind === 'none' && idSort) || onIdIndex) {
    const lower: IdBound[] = [...filterBounds(id, 'lower')];
    const upper: IdBound[] = [...filterBounds(id, 'upper')];
    if (min) lower.push({ value: min['_id'], side: 'before' });
    if (max) upper.push({ value: max['_id'], side: 'before' });
    const dir = idSort ? sortKeys[0].dir : 1;
    const scan = new IdScan(c.idIndex, lower, upper, dir);
    if (sortKeys.length > 0 && !idSort) {
      const docs: Document[] = [];
      for (let e = scan.next(); e; e = scan.next()) {
        const d = c.docs.get(e.key);
        if (d && predicate(d)) docs.push(d);
      }
      return finish(docs, false);
    }
    return new IdScanSource(c, scan, predicate, skip, limit, q.project);
  }
  if (hinted.kind === 'index') {
    // Another index: its key order, then min/max on the key, then the sort if one is asked for.
    const key = hinted.key;
    const keyOf = (d: Document) => key.map(([k, dir]) => sortValue(d, k.split('.'), dir) ?? null);
    let docs = [...c.docs.values()].filter(predicate);
    docs.sort(comparator(key.map(([k, dir]) => ({ path: k.split('.'), dir }))));
    if (min || max) {
      const lo = min && Object.values(min);
      const hi = max && Object.values(max);
      docs = docs.filter((d) => {
        const k = keyOf(d);
        return (!lo || compareKeys(k, lo, key) >= 0) && (!hi || compareKeys(k, hi, key) < 0);
      });
    }
    return finish(docs, false);
  }
  const out: Document[] = [];
  const natural = hinted.kind === 'natural' ? hinted.dir : naturalSort ? sortKeys[0].dir : 1;
  const docs = natural < 0 ? [...c.docs.values()].reverse() : c.docs.values();
  const sortAfter = sortKeys.length > 0 && !naturalSort;
  for (const doc of docs) {
    if (predicate(doc)) {
      out.push(doc);
      if (!sortAfter && out.length >= want) break;
    }
  }
  return finish(out, !sortAfter);
}

/** Reads the `_id` index as the cursor asks: skip, filter and limit applied on the way. */
class IdScanSource implements DocSource {
  #skip: number;
  #left: number;
  #ended = false;

  constructor(
    readonly c: StoredCollection,
    readonly scan: IdScan,
    readonly predicate: (d: Document) => boolean,
    skip: number,
    limit: number,
    readonly project: ((d: Document) => Document) | undefined,
  ) {
    this.#skip = skip;
    this.#left = limit;
  }

  get exhausted(): boolean {
    return this.#ended || this.#left <= 0;
  }

  next(): Document | undefined {
    while (!this.exhausted) {
      const e = this.scan.next();
      if (!e) {
        this.#ended = true;
        return undefined;
      }
      const d = this.c.docs.get(e.key);
      if (!d || !this.predicate(d)) continue;
      if (this.#skip > 0) {
        this.#skip--;
        continue;
      }
      this.#left--;
      return this.project ? this.project(d) : d;
    }
    return undefined;
  }
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

/**
 * The cuts a filter's range condition on `_id` puts on the index scan: `$gt: 5` starts after 5
 * and ends with the numbers (type bracketing: it never matches a string); MinKey and MaxKey bound
 * every type.
 */
function filterBounds(id: unknown, side: 'lower' | 'upper'): IdBound[] {
  if (!isOps(id)) return [];
  const out: IdBound[] = [];
  for (const [op, v] of Object.entries(id)) {
    const r = typeRank(v);
    const bracketed = r !== 1 && r !== 100;
    if (op === '$gt' || op === '$gte') {
      if (side === 'lower') out.push({ value: v, side: op === '$gt' ? 'after' : 'before' });
      else if (bracketed) out.push({ bracketEnd: r });
    } else if (op === '$lt' || op === '$lte') {
      if (side === 'upper') out.push({ value: v, side: op === '$lt' ? 'before' : 'after' });
      else if (bracketed) out.push({ bracketStart: r });
    }
  }
  return out;
}
