import { Binary, type Document, type Long } from 'bson';
import { compareExact, type ExactNumber, exactFromDecimalString, exactFromDouble, exactFromLong, exactKey } from './exact-numbers';

/**
 * BSON values as the server compares them: the canonical type order used by sort and range
 * queries, numeric equality across int32/int64/double/decimal, and the exact equality that decides
 * whether an update changed anything. Documents are held as `bson` deserializes them with
 * `promoteValues: false` (Int32, Double, Long and Decimal128 stay wrapped), so every function here
 * accepts both the wrappers and plain JS numbers.
 */

/** The `_bsontype` tag of a bson value class instance (ObjectId, Binary, Int32…), or undefined. */
export function bsonType(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  const t = (v as { _bsontype?: unknown })._bsontype;
  return typeof t === 'string' ? t : undefined;
}

export function isPlainDocument(v: unknown): v is Document {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && bsonType(v) === undefined && !(v instanceof Date) && !(v instanceof RegExp) && !(v instanceof Uint8Array);
}

export function isNumeric(v: unknown): boolean {
  if (typeof v === 'number' || typeof v === 'bigint') return true;
  const t = bsonType(v);
  return t === 'Int32' || t === 'Double' || t === 'Long' || t === 'Decimal128';
}

/** A numeric BSON value as a JS number (int64 beyond 2^53 loses precision; use numericKey for identity). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  const t = bsonType(v);
  if (t === 'Int32' || t === 'Double') return (v as { value: number }).value;
  if (t === 'Long') return (v as Long).toNumber();
  if (t === 'Decimal128') return Number((v as { toString(): string }).toString());
  return Number.NaN;
}

/** A command field that must be a number (batchSize, limit…): undefined stays undefined. */
export function num(v: unknown): number | undefined {
  return v === undefined || v === null ? undefined : toNumber(v);
}

/** A command field read as a boolean, as the server does (a number counts as its truthiness). */
export function bool(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  return isNumeric(v) ? toNumber(v) !== 0 : Boolean(v);
}

/**
 * The type brackets of BSON's comparison order: MinKey < null < numbers < string/symbol < object <
 * array < binData < ObjectId < bool < date < timestamp < regex < code < code with scope < MaxKey
 * (the server's canonical types). A missing field sorts and compares as null.
 */
export function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 2;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 3;
    case 'string':
      return 4;
    case 'boolean':
      return 9;
  }
  if (Array.isArray(v)) return 6;
  if (v instanceof Date) return 10;
  if (v instanceof RegExp) return 12;
  if (v instanceof Uint8Array) return 7;
  switch (bsonType(v)) {
    case undefined:
    case 'DBRef':
      return 5;
    case 'MinKey':
      return 1;
    case 'MaxKey':
      return 100;
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return 3;
    case 'BSONSymbol':
      return 4;
    case 'Binary':
      return 7;
    case 'ObjectId':
      return 8;
    case 'Timestamp':
      return 11;
    case 'BSONRegExp':
      return 12;
    case 'Code':
      // Code and code-with-scope are two canonical types (60 and 65 on the server).
      return (v as { scope?: unknown }).scope ? 14 : 13;
    default:
      return 50;
  }
}

/**
 * A numeric value exactly: doubles, int32 and int64 within ±2^53 compare as JS numbers (exact for
 * them); Decimal128 and larger int64 go through their exact decimal value.
 */
function exactOf(v: unknown): ExactNumber {
  if (typeof v === 'number') return exactFromDouble(v);
  if (typeof v === 'bigint') return exactFromLong(v);
  const t = bsonType(v);
  if (t === 'Long') return exactFromLong(v as Long);
  if (t === 'Decimal128') return exactFromDecimalString((v as { toString(): string }).toString());
  return exactFromDouble(toNumber(v));
}

/** The value as a JS number when that is exact (every double and int32, int64 within ±2^53), else undefined. */
function plainNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  const t = bsonType(v);
  if (t === 'Int32' || t === 'Double') return (v as { value: number }).value;
  if (t === 'Long') {
    const l = v as Long;
    const n = l.toNumber();
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** Numbers compare by value whatever their BSON types; NaN is below every number and equal to NaN; -0 equals 0. */
function compareNumbers(a: unknown, b: unknown): number {
  const x = plainNumber(a);
  const y = plainNumber(b);
  if (x !== undefined && y !== undefined) {
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareExact(exactOf(a), exactOf(b));
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals UTF-8 byte order except around surrogate pairs; fall back to bytes then.
  if (/[\ud800-\uffff]/.test(a) || /[\ud800-\uffff]/.test(b)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : 1;
}

function bytesOf(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const b = v as Binary;
  return Buffer.from(b.buffer.buffer, b.buffer.byteOffset, b.position);
}

/** BSON's total order over values (what `sort` and `$gt`/`$lt` use). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1:
    case 2:
    case 100:
      return 0;
    case 3:
      return compareNumbers(a, b);
    case 4:
      return compareStrings(typeof a === 'string' ? a : (a as { value: string }).value, typeof b === 'string' ? b : (b as { value: string }).value);
    case 5:
      return compareDocuments(asDocument(a), asDocument(b));
    case 6:
      return compareDocuments(a as unknown[], b as unknown[]);
    case 7: {
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length) return x.length < y.length ? -1 : 1;
      const sa = a instanceof Uint8Array ? 0 : (a as Binary).sub_type;
      const sb = b instanceof Uint8Array ? 0 : (b as Binary).sub_type;
      if (sa !== sb) return sa < sb ? -1 : 1;
      return Buffer.compare(x, y);
    }
    case 8:
      return Buffer.compare((a as { id: Uint8Array }).id, (b as { id: Uint8Array }).id); // no copy: index seeks compare many
    case 9:
      return a === b ? 0 : a ? 1 : -1;
    case 10: {
      // Signed 64-bit milliseconds (dates before 1970 sort first).
      const x = (a as Date).getTime();
      const y = (b as Date).getTime();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 11: {
      const x = a as Long;
      const y = b as Long;
      return x.high !== y.high ? (x.high >>> 0 < y.high >>> 0 ? -1 : 1) : x.low === y.low ? 0 : x.low >>> 0 < y.low >>> 0 ? -1 : 1;
    }
    case 12: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return compareStrings(pa, pb) || compareStrings(fa, fb);
    }
    case 14:
      return compareStrings((a as { code: string }).code, (b as { code: string }).code) || compareDocuments((a as { scope: Document }).scope, (b as { scope: Document }).scope);
    default:
      return compareStrings(String((a as { code?: string }).code ?? a), String((b as { code?: string }).code ?? b));
  }
}

export function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags];
  const r = v as { pattern: string; options: string };
  return [r.pattern, r.options];
}

function asDocument(v: unknown): Document {
  if (bsonType(v) === 'DBRef') return (v as { toJSON(): Document }).toJSON();
  return v as Document;
}

/** Element by element: type bracket, then field name, then value; the shorter document first. */
function compareDocuments(a: Document | unknown[], b: Document | unknown[]): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const va = a as Record<string, unknown>;
  const vb = b as Record<string, unknown>;
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const ra = typeRank(va[ka[i]]);
    const rb = typeRank(vb[kb[i]]);
    if (ra !== rb) return ra < rb ? -1 : 1;
    if (!Array.isArray(a)) {
      const c = compareStrings(ka[i], kb[i]);
      if (c !== 0) return c;
    }
    const c = compareValues(va[ka[i]], vb[kb[i]]);
    if (c !== 0) return c;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

/** The query language's equality: numbers equal across types, documents field by field in order. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return compareValues(a, b) === 0 && (typeRank(a) !== 2 || typeRank(b) === 2);
}

/**
 * Exact identity: same BSON types and values (a double 5.0 is not an int32 5). Used to tell whether
 * an update changed a document at all, since a no-op write leaves no oplog entry and no event.
 */
export function exactEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return typeof a === 'number' && typeof b === 'number' && Object.is(a, b);
  const ta = bsonType(a);
  if (ta !== bsonType(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (ta === undefined) {
    if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
    if (a instanceof RegExp || b instanceof RegExp) return a instanceof RegExp && b instanceof RegExp && a.source === b.source && a.flags === b.flags;
    if (a instanceof Uint8Array || b instanceof Uint8Array) return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i]) return false;
      if (!exactEqual((a as Document)[ka[i]], (b as Document)[kb[i]])) return false;
    }
    return true;
  }
  switch (ta) {
    case 'Int32':
    case 'Double':
      return Object.is((a as { value: number }).value, (b as { value: number }).value);
    case 'Binary':
      return (a as Binary).sub_type === (b as Binary).sub_type && Buffer.compare(bytesOf(a), bytesOf(b)) === 0;
    case 'MinKey':
    case 'MaxKey':
      return true;
    default:
      return compareValues(a, b) === 0 && String(a) === String(b);
  }
}

/**
 * A string that identifies a value up to the query language's equality: the key of the `_id`
 * index (so `{_id: 1}` and `{_id: 1.0}` are the same document, as on a server).
 */
export function valueKey(v: unknown): string {
  const rank = typeRank(v);
  switch (rank) {
    case 2:
      return 'z';
    case 3:
      return `n${numericKey(v)}`;
    case 4:
      return `s${typeof v === 'string' ? v : (v as { value: string }).value}`;
    case 5: {
      const d = asDocument(v);
      return `{${Object.keys(d)
        .map((k) => `${JSON.stringify(k)}:${valueKey(d[k])}`)
        .join(',')}}`;
    }
    case 6:
      return `[${(v as unknown[]).map(valueKey).join(',')}]`;
    case 7:
      return `b${v instanceof Uint8Array ? 0 : (v as Binary).sub_type}:${bytesOf(v).toString('base64')}`;
    case 8:
      return `o${(v as { toHexString(): string }).toHexString()}`;
    case 9:
      return v ? 'T' : 'F';
    case 10:
      return `d${(v as Date).getTime()}`;
    case 11:
      return `t${(v as Long).toString()}`;
    case 12:
      return `r${regexParts(v).join('/')}`;
    case 14:
      return `w${JSON.stringify((v as { code: string }).code)}:${valueKey((v as { scope: Document }).scope)}`;
    default:
      return `x${rank}:${String((v as { code?: string }).code ?? v)}`;
  }
}

function numericKey(v: unknown): string {
  const n = plainNumber(v);
  if (n !== undefined && Number.isSafeInteger(n)) return String(n); // the common case, and what exactKey prints for it
  return exactKey(exactOf(v));
}

/**
 * A deep copy of the document structure (plain objects and arrays); bson value instances are
 * shared, as they are never modified in place.
 */
export function cloneValue<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (isPlainDocument(v)) {
    const out: Document = {};
    for (const k of Object.keys(v)) out[k] = cloneValue(v[k]);
    return out as T;
  }
  return v;
}

/** A fresh 16-byte UUID as BSON binary subtype 4 (collection UUIDs, session ids). */
export function newUuid(): Binary {
  return new Binary(globalThis.crypto.getRandomValues(new Uint8Array(16)), Binary.SUBTYPE_UUID);
}
