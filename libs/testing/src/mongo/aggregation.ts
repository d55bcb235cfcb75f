import { type Document, Double, Int32 } from 'bson';
import type { StoredCollection } from './catalog';
import { cloneValue, compareValues, isNumeric, isPlainDocument, toNumber, valueKey } from './bson-values';
import { getPath, setPath } from './document-paths';
import { compileProjection } from './projection';
import { comparator, runQuery } from './query-engine';
import { compileFilter } from './query-matcher';
import { ServerError } from './server-error';

/**
 * A small aggregation pipeline over one collection, enough for what drivers and tests run besides
 * change streams: `$match $sort $skip $limit $project $addFields/$set $unset $count` and `$group`
 * with `$sum $avg $min $max $first $last $push $count` (countDocuments is `$match` + `$group`).
 * Expressions are field paths (`'$a.b'`) and constants.
 */
export interface AggregateContext {
  ns: string;
  /** host:port, as `$collStats` reports it. */
  host: string;
}

export function runAggregate(c: StoredCollection | undefined, stages: Document[], context?: AggregateContext): Document[] {
  let i = 0;
  let filter: Document | undefined;
  let docs: Document[];
  if (stages[0]?.['$collStats'] !== undefined) {
    docs = [collStats(c, stages[0]['$collStats'] as Document, context)];
    i = 1;
  } else {
    if (stages[0]?.['$match']) {
      filter = stages[0]['$match'] as Document;
      i = 1;
    }
    docs = runQuery(c, { filter });
  }
  for (; i < stages.length; i++) {
    const [name, arg] = Object.entries(stages[i])[0] ?? [];
    switch (name) {
      case '$match': {
        const m = compileFilter(arg as Document);
        docs = docs.filter(m);
        break;
      }
      case '$sort':
        docs = [...docs].sort(comparator(Object.entries(arg as Document).map(([k, d]) => ({ path: k.split('.'), dir: toNumber(d) }))));
        break;
      case '$skip':
        docs = docs.slice(toNumber(arg));
        break;
      case '$limit':
        docs = docs.slice(0, toNumber(arg));
        break;
      case '$project': {
        const p = compileProjection(arg as Document);
        if (p) docs = docs.map(p);
        break;
      }
      case '$unset': {
        const p = compileProjection(Object.fromEntries((Array.isArray(arg) ? arg : [arg]).map((f) => [String(f), 0])));
        if (p) docs = docs.map(p);
        break;
      }
      case '$addFields':
      case '$set': {
        const fields = Object.entries(arg as Document).map(([k, v]) => [k.split('.'), expression(v)] as const);
        docs = docs.map((d) => {
          const out = cloneValue(d);
          for (const [parts, f] of fields) setPath(out, parts, f(d));
          return out;
        });
        break;
      }
      case '$count':
        docs = docs.length === 0 ? [] : [{ [String(arg)]: new Int32(docs.length) }];
        break;
      case '$group':
        docs = group(docs, arg as Document);
        break;
      case '$collStats':
        throw new ServerError(40602, '$collStats is only valid as the first stage in a pipeline');
      default:
        throw new ServerError(40324, `Unrecognized pipeline stage name: '${name}' (not supported by the stand-in)`);
    }
  }
  return docs;
}

/**
 * `$collStats: {count: {}}` — the document count from the collection's metadata (what a progress
 * estimate reads without scanning). storageStats, latencyStats and queryExecStats are not kept.
 */
function collStats(c: StoredCollection | undefined, spec: Document, context: AggregateContext | undefined): Document {
  const ns = context?.ns ?? c?.ns ?? '';
  for (const k of Object.keys(spec ?? {})) {
    if (k !== 'count') throw new ServerError(2, `$collStats ${k} is not supported by the stand-in (only count)`);
  }
  const out: Document = { ns, host: context?.host ?? '', localTime: new Date() };
  if ('count' in (spec ?? {})) {
    if (!c) throw new ServerError(26, `Unable to retrieve count in $collStats stage :: caused by :: Collection [${ns}] not found.`);
    out['count'] = c.docs.size;
  }
  return out;
}

function expression(v: unknown): (d: Document) => unknown {
  if (typeof v === 'string' && v.startsWith('$')) {
    const parts = v.slice(1).split('.');
    return (d) => getPath(d, parts);
  }
  if (isPlainDocument(v) && '$literal' in v) return () => v['$literal'];
  if (isPlainDocument(v) && Object.keys(v).length > 0 && !Object.keys(v)[0].startsWith('$')) {
    const fields = Object.entries(v).map(([k, x]) => [k, expression(x)] as const);
    return (d) => Object.fromEntries(fields.map(([k, f]) => [k, f(d)]));
  }
  if (isPlainDocument(v) && Object.keys(v)[0]?.startsWith('$')) throw new ServerError(2, `expression ${Object.keys(v)[0]} is not supported by the stand-in`);
  return () => v;
}

type Accumulator = { add: (d: Document) => void; result: () => unknown };

function accumulator(spec: unknown): () => Accumulator {
  if (!isPlainDocument(spec) || Object.keys(spec).length !== 1) throw new ServerError(40234, 'The field must specify one accumulator');
  const [op, arg] = Object.entries(spec)[0];
  const f = expression(arg);
  switch (op) {
    case '$sum':
    case '$avg':
      return () => {
        let sum = 0;
        let n = 0;
        let allInt = true;
        return {
          add: (d) => {
            const v = f(d);
            if (isNumeric(v)) {
              sum += toNumber(v);
              n++;
              if (!Number.isInteger(toNumber(v)) || (typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'Double')) allInt = false;
            }
          },
          result: () => (op === '$avg' ? (n === 0 ? null : new Double(sum / n)) : allInt && Math.abs(sum) < 2 ** 31 ? new Int32(sum) : new Double(sum)),
        };
      };
    case '$count':
      return () => {
        let n = 0;
        return { add: () => void n++, result: () => new Int32(n) };
      };
    case '$min':
    case '$max':
      return () => {
        let best: unknown;
        return {
          add: (d) => {
            const v = f(d);
            if (v === undefined || v === null) return;
            if (best === undefined || (op === '$min' ? compareValues(v, best) < 0 : compareValues(v, best) > 0)) best = v;
          },
          result: () => best ?? null,
        };
      };
    case '$first':
    case '$last':
      return () => {
        let seen = false;
        let value: unknown;
        return {
          add: (d) => {
            if (op === '$first' && seen) return;
            seen = true;
            value = f(d);
          },
          result: () => value ?? null,
        };
      };
    case '$push':
      return () => {
        const values: unknown[] = [];
        return { add: (d) => void values.push(f(d)), result: () => values };
      };
    default:
      throw new ServerError(15952, `unknown group operator '${op}'`);
  }
}

function group(docs: Document[], spec: Document): Document[] {
  if (!('_id' in spec)) throw new ServerError(15955, "a group specification must include an _id");
  const key = expression(spec['_id']);
  const fields = Object.entries(spec)
    .filter(([k]) => k !== '_id')
    .map(([k, v]) => [k, accumulator(v)] as const);
  const groups = new Map<string, { id: unknown; accs: [string, Accumulator][] }>();
  for (const d of docs) {
    const id = key(d) ?? null;
    const k = valueKey(id);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { id, accs: fields.map(([name, make]) => [name, make()]) }));
    for (const [, acc] of g.accs) acc.add(d);
  }
  return [...groups.values()].map((g) => {
    const out: Document = { _id: g.id };
    for (const [name, acc] of g.accs) out[name] = acc.result();
    return out;
  });
}

