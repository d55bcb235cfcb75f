import type { Document } from 'bson';
import { bsonType, compareValues, isPlainDocument, regexParts, toNumber, typeRank, valuesEqual } from './bson-values';
import { ServerError } from './server-error';

/**
 * The query language of `find`, `update`, `delete`, `$match` (also over change events):
 * equality, `$eq $ne $gt $gte $lt $lte $in $nin $exists $type $size $all $elemMatch $regex $not
 * $mod`, and `$and $or $nor`, on dotted paths with the server's array rules (a condition on an
 * array field matches when the array itself or any element matches; comparisons only match values
 * of the same type bracket). `$expr`, `$where`, geo and text operators are refused.
 */
export type Predicate = (doc: Document) => boolean;

export function compileFilter(filter: Document | undefined | null): Predicate {
  if (!filter || Object.keys(filter).length === 0) return () => true;
  const parts: Predicate[] = [];
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(cond) || cond.length === 0) throw new ServerError(2, `${key} must be a nonempty array`);
      const subs = cond.map((c) => compileFilter(c as Document));
      if (key === '$and') parts.push((d) => subs.every((s) => s(d)));
      else if (key === '$or') parts.push((d) => subs.some((s) => s(d)));
      else parts.push((d) => !subs.some((s) => s(d)));
    } else if (key === '$comment') {
      continue;
    } else if (key.startsWith('$')) {
      throw new ServerError(2, `unknown top level operator: ${key}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
    } else {
      const path = key.split('.');
      const test = compileCondition(cond);
      parts.push((d) => test(candidates(d, path)));
    }
  }
  return parts.length === 1 ? parts[0] : (d) => parts.every((p) => p(d));
}

/**
 * What a path can stand for in a document: each value reached (through arrays of documents), and
 * for an array at the end both the array and each of its elements. `undefined` marks a missing path.
 */
interface Candidates {
  /** Values reached, arrays at the end included as a whole. */
  values: unknown[];
  /** The elements of arrays at the end of the path. */
  elements: unknown[];
}

function candidates(doc: unknown, path: readonly string[]): Candidates {
  const out: Candidates = { values: [], elements: [] };
  walk(doc, path, 0, out);
  return out;
}

function walk(v: unknown, path: readonly string[], i: number, out: Candidates): void {
  if (i === path.length) {
    out.values.push(v);
    if (Array.isArray(v)) out.elements.push(...v);
    return;
  }
  const part = path[i];
  if (Array.isArray(v)) {
    let reached = false;
    if (/^\d+$/.test(part) && Number(part) < v.length) {
      walk(v[Number(part)], path, i + 1, out);
      reached = true;
    }
    for (const el of v) {
      if (isPlainDocument(el)) {
        walk(el, path, i, out);
        reached = true;
      }
    }
    if (!reached) out.values.push(undefined);
    return;
  }
  if (isPlainDocument(v)) {
    walk(v[part], path, i + 1, out);
    return;
  }
  out.values.push(undefined);
}

type CandidateTest = (c: Candidates) => boolean;

const isOperatorObject = (v: unknown): v is Document => isPlainDocument(v) && Object.keys(v).length > 0 && Object.keys(v)[0].startsWith('$');

/** Every value the path stands for, arrays and their elements alike. */
const all = (c: Candidates): unknown[] => (c.elements.length === 0 ? c.values : [...c.values, ...c.elements]);

function compileCondition(cond: unknown): CandidateTest {
  if (isRegex(cond)) {
    const re = toRegExp(cond);
    return (c) => all(c).some((v) => (typeof v === 'string' && re.test(v)) || (isRegex(v) && regexParts(v).join('/') === regexParts(cond).join('/')));
  }
  if (!isOperatorObject(cond)) return (c) => all(c).some((v) => equalsForMatch(v, cond));
  const tests: CandidateTest[] = [];
  const ops = cond as Document;
  for (const [op, arg] of Object.entries(ops)) {
    switch (op) {
      case '$eq':
        tests.push((c) => all(c).some((v) => equalsForMatch(v, arg)));
        break;
      case '$ne': {
        const eq = compileCondition({ $eq: arg });
        tests.push((c) => !eq(c));
        break;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte': {
        const ok = op === '$gt' ? (n: number) => n > 0 : op === '$gte' ? (n: number) => n >= 0 : op === '$lt' ? (n: number) => n < 0 : (n: number) => n <= 0;
        const rank = typeRank(arg);
        tests.push((c) =>
          all(c).some((v) => {
            // Comparisons stay within a type bracket; MinKey/MaxKey bound everything.
            const r = typeRank(v);
            if (r !== rank && rank !== 1 && rank !== 100) return false;
            if (v === undefined && rank === 2) return op === '$gte' || op === '$lte';
            // NaN equals NaN and compares false with every other number (the server's special case;
            // so `$lt: 5` does not match NaN although NaN sorts below every number).
            if (rank === 3 && (isNaNValue(v) || isNaNValue(arg))) return op !== '$gt' && op !== '$lt' && isNaNValue(v) && isNaNValue(arg);
            return ok(compareValues(v, arg));
          }),
        );
        break;
      }
      case '$in':
      case '$nin': {
        if (!Array.isArray(arg)) throw new ServerError(2, `${op} needs an array`);
        const tests2 = arg.map((a) => compileCondition(isRegex(a) ? a : { $eq: a }));
        const any = (c: Candidates) => tests2.some((t) => t(c));
        tests.push(op === '$in' ? any : (c) => !any(c));
        break;
      }
      case '$exists': {
        const want = toBool(arg);
        tests.push((c) => c.values.some((v) => v !== undefined) === want);
        break;
      }
      case '$type': {
        const wanted = (Array.isArray(arg) ? arg : [arg]).map((t) => (typeof t === 'string' ? t : TYPE_ALIASES_BY_NUMBER[toNumber(t)] ?? String(toNumber(t))));
        tests.push((c) => {
          if (wanted.includes('array') && c.values.some(Array.isArray)) return true;
          return all(c).some((v) => v !== undefined && !Array.isArray(v) && wanted.some((w) => typeAlias(v) === w || (w === 'number' && typeRank(v) === 3)));
        });
        break;
      }
      case '$size': {
        const n = toNumber(arg);
        tests.push((c) => c.values.some((v) => Array.isArray(v) && v.length === n));
        break;
      }
      case '$all': {
        if (!Array.isArray(arg)) throw new ServerError(2, '$all needs an array');
        const subs = arg.map((a) => (isPlainDocument(a) && '$elemMatch' in a ? compileCondition(a) : compileCondition({ $eq: a })));
        tests.push((c) => arg.length > 0 && subs.every((s) => s(c)));
        break;
      }
      case '$elemMatch': {
        if (!isPlainDocument(arg)) throw new ServerError(2, '$elemMatch needs an Object');
        const asValue = isOperatorObject(arg) && !Object.keys(arg).some((k) => k === '$and' || k === '$or' || k === '$nor');
        const test = asValue ? compileCondition(arg) : undefined;
        const filter = asValue ? undefined : compileFilter(arg);
        tests.push((c) => c.values.some((v) => Array.isArray(v) && v.some((el) => (test ? test({ values: [el], elements: [] }) : isPlainDocument(el) && filter!(el)))));
        break;
      }
      case '$regex': {
        const re = toRegExp(arg, typeof ops['$options'] === 'string' ? (ops['$options'] as string) : '');
        tests.push((c) => all(c).some((v) => typeof v === 'string' && re.test(v)));
        break;
      }
      case '$options':
        if (!('$regex' in ops)) throw new ServerError(2, '$options needs a $regex');
        break;
      case '$not': {
        const inner = isRegex(arg) ? compileCondition(arg) : isOperatorObject(arg) ? compileCondition(arg) : undefined;
        if (!inner) throw new ServerError(2, '$not needs a regex or a document');
        tests.push((c) => !inner(c));
        break;
      }
      case '$mod': {
        const [d, r] = (arg as unknown[]).map(toNumber);
        tests.push((c) => all(c).some((v) => typeRank(v) === 3 && Math.trunc(toNumber(v)) % d === r));
        break;
      }
      case '$comment':
        break;
      default:
        throw new ServerError(2, `unknown operator: ${op}`);
    }
  }
  return (c) => tests.every((t) => t(c));
}

/** Equality in a query: `null` also matches a missing field. */
function equalsForMatch(v: unknown, want: unknown): boolean {
  if (want === null) return v === null || v === undefined || bsonType(v) === 'BSONUndefined';
  if (v === undefined) return false;
  return valuesEqual(v, want);
}

function isNaNValue(v: unknown): boolean {
  if (bsonType(v) === 'Decimal128') return /nan/i.test(String(v));
  return typeRank(v) === 3 && Number.isNaN(toNumber(v));
}

function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  return toNumber(v) !== 0;
}

function isRegex(v: unknown): boolean {
  return v instanceof RegExp || bsonType(v) === 'BSONRegExp';
}

function toRegExp(v: unknown, extraFlags = ''): RegExp {
  if (typeof v === 'string') return new RegExp(v, jsFlags(extraFlags));
  const [pattern, flags] = regexParts(v);
  return new RegExp(pattern, jsFlags(flags + extraFlags));
}

/** PCRE options the JS engine understands (i, m, s); `x` and `u` are dropped. */
function jsFlags(flags: string): string {
  return [...new Set(flags.split('').filter((f) => f === 'i' || f === 'm' || f === 's'))].join('');
}

const TYPE_ALIASES_BY_NUMBER: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  6: 'undefined',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  13: 'javascript',
  14: 'symbol',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  [-1]: 'minKey',
  127: 'maxKey',
};

/** The `$type` alias of a (non-array) value. */
export function typeAlias(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      return 'double';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'long';
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (v instanceof Uint8Array) return 'binData';
  switch (bsonType(v)) {
    case undefined:
    case 'DBRef':
      return 'object';
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'Binary':
      return 'binData';
    case 'ObjectId':
      return 'objectId';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'BSONSymbol':
      return 'symbol';
    case 'Code':
      return 'javascript';
    default:
      return 'unknown';
  }
}
