import { Decimal128, type Document, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { bsonType, cloneValue, compareValues, exactEqual, isNumeric, isPlainDocument, toNumber, valuesEqual } from './bson-values';
import { getPath, hasPath, setPath, unsetPath } from './document-paths';
import { compileFilter } from './query-matcher';
import { ServerError } from './server-error';

/**
 * Update documents as the server applies them: operator updates (`$set $unset $inc $mul $min $max
 * $rename $push $addToSet $pop $pull $pullAll $currentDate $setOnInsert`) on dotted paths,
 * replacements, and the document an upsert inserts. Numeric results keep the server's types
 * (int32 + int32 stays int32 unless it overflows to int64; anything with a double is a double).
 *
 * Each result carries the change event's `updateDescription` the way the server's oplog diff
 * reports it: a `$set` of a path reports that path (or the first component that did not exist
 * before), a `$push` onto an existing array reports the new elements by index (`tags.3`), a field
 * set to the value it already had is not reported, and an update that changes nothing is no write.
 */

export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: { field: string; newSize: Int32 }[];
}

export interface UpdateOutcome {
  doc: Document;
  description: UpdateDescription;
  /** False when the document is unchanged (no oplog entry, no event, nModified 0). */
  changed: boolean;
}

export interface UpdateContext {
  /** True while building the document an upsert inserts ($setOnInsert applies). */
  inserting: boolean;
  /** The cluster time the write will get ($currentDate with $type timestamp). */
  now: () => { date: Date; timestamp: Timestamp };
}

const MODIFIERS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$push', '$addToSet', '$pop', '$pull', '$pullAll', '$currentDate', '$setOnInsert']);

/** Whether `u` is a replacement document (no `$` operators) rather than an operator update. */
export function isReplacement(u: Document): boolean {
  const keys = Object.keys(u);
  return keys.length === 0 || !keys[0].startsWith('$');
}

interface Change {
  parts: string[];
  kind: 'set' | 'unset' | 'truncate';
  newSize?: number;
}

export function applyOperators(before: Document, update: Document, ctx: UpdateContext): UpdateOutcome {
  const doc = cloneValue(before);
  const changes: Change[] = [];
  const targets: string[] = [];
  for (const [op, args] of Object.entries(update)) {
    if (!MODIFIERS.has(op)) throw new ServerError(9, `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    if (!isPlainDocument(args)) throw new ServerError(9, `Modifiers operate on fields but we found type ${typeof args} instead. For example: {$mod: {<field>: ...}} not {${op}: ${String(args)}}`);
    for (const path of Object.keys(args)) {
      targets.push(path);
      if (op === '$rename') targets.push(String(args[path]));
    }
  }
  checkConflicts(targets);
  for (const [op, args] of Object.entries(update) as [string, Document][]) {
    for (const [path, arg] of Object.entries(args)) {
      apply(op, doc, path.split('.'), arg, changes, ctx);
    }
  }
  if (!ctx.inserting && !exactEqual(before['_id'], doc['_id'])) {
    throw new ServerError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  const description = describe(before, doc, changes);
  const changed = Object.keys(description.updatedFields).length > 0 || description.removedFields.length > 0 || description.truncatedArrays.length > 0;
  return { doc: changed ? idFirst(doc) : before, description, changed };
}

/** A replacement keeps the stored `_id` (a different one is refused, as on the server). */
export function applyReplacement(before: Document, replacement: Document): UpdateOutcome {
  for (const k of Object.keys(replacement)) if (k.startsWith('$')) throw new ServerError(2, `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document.`);
  if ('_id' in replacement && !exactEqual(replacement['_id'], before['_id'])) {
    throw new ServerError(66, `After applying the update, the (immutable) field '_id' was found to have been altered to _id: ${String(replacement['_id'])}`);
  }
  const doc: Document = { _id: before['_id'] };
  for (const [k, v] of Object.entries(replacement)) if (k !== '_id') doc[k] = v;
  return { doc, description: { updatedFields: {}, removedFields: [], truncatedArrays: [] }, changed: !exactEqual(before, doc) };
}

/**
 * The document an upsert starts from: the filter's equality conditions (top level, `$eq`, inside
 * `$and`), then the update applied with `$setOnInsert`; `_id` first, an ObjectId if none.
 */
export function upsertDocument(filter: Document, update: Document, ctx: Omit<UpdateContext, 'inserting'>): Document {
  if (isReplacement(update)) {
    const doc: Document = {};
    const id = update['_id'] ?? equalityFields(filter)['_id'];
    doc['_id'] = id ?? new ObjectId();
    for (const [k, v] of Object.entries(update)) if (k !== '_id') doc[k] = v;
    return doc;
  }
  const seed: Document = {};
  for (const [path, v] of Object.entries(equalityFields(filter))) setPath(seed, path.split('.'), cloneValue(v));
  const { doc } = applyOperators(seed, update, { ...ctx, inserting: true });
  if (doc['_id'] === undefined) return { _id: new ObjectId(), ...doc };
  return idFirst(doc);
}

function equalityFields(filter: Document): Document {
  const out: Document = {};
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) Object.assign(out, equalityFields(sub as Document));
    } else if (!k.startsWith('$')) {
      if (isPlainDocument(v) && Object.keys(v)[0]?.startsWith('$')) {
        if ('$eq' in v) out[k] = v['$eq'];
      } else {
        out[k] = v;
      }
    }
  }
  return out;
}

function idFirst(doc: Document): Document {
  if (Object.keys(doc)[0] === '_id' || !('_id' in doc)) return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

function checkConflicts(paths: string[]): void {
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a === b || b.startsWith(`${a}.`)) throw new ServerError(40, `Updating the path '${b}' would create a conflict at '${a}'`);
  }
}

function apply(op: string, doc: Document, parts: string[], arg: unknown, changes: Change[], ctx: UpdateContext): void {
  const current = getPath(doc, parts);
  const set = (value: unknown) => {
    setPath(doc, parts, value);
    changes.push({ parts, kind: 'set' });
  };
  switch (op) {
    case '$setOnInsert':
      if (ctx.inserting) set(cloneValue(arg));
      return;
    case '$set':
      set(cloneValue(arg));
      return;
    case '$unset':
      if (unsetPath(doc, parts)) changes.push({ parts, kind: 'unset' });
      return;
    case '$inc':
    case '$mul': {
      if (!isNumeric(arg)) throw new ServerError(14, `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${parts.join('.')}: ${String(arg)}}`);
      if (current !== undefined && !isNumeric(current)) {
        throw new ServerError(14, `Cannot apply ${op} to a value of non-numeric type. {_id: ${String(doc['_id'])}} has the field '${parts[parts.length - 1]}' of non-numeric type ${bsonType(current) ?? typeof current}`);
      }
      if (op === '$inc') set(current === undefined ? arg : arithmetic(current, arg, (a, b) => a + b, (a, b) => a + b));
      else set(current === undefined ? arithmetic(zeroLike(arg), arg, (a, b) => a * b, (a, b) => a * b) : arithmetic(current, arg, (a, b) => a * b, (a, b) => a * b));
      return;
    }
    case '$min':
    case '$max':
      if (current === undefined || (op === '$min' ? compareValues(arg, current) < 0 : compareValues(arg, current) > 0)) set(cloneValue(arg));
      return;
    case '$rename': {
      if (typeof arg !== 'string') throw new ServerError(2, `The 'to' field for $rename must be a string: ${parts.join('.')}: ${String(arg)}`);
      if (!hasPath(doc, parts)) return;
      unsetPath(doc, parts);
      changes.push({ parts, kind: 'unset' });
      const to = arg.split('.');
      setPath(doc, to, current);
      changes.push({ parts: to, kind: 'set' });
      return;
    }
    case '$currentDate': {
      const now = ctx.now();
      const wantsTs = isPlainDocument(arg) && arg['$type'] === 'timestamp';
      set(wantsTs ? now.timestamp : now.date);
      return;
    }
    case '$push':
    case '$addToSet': {
      if (current !== undefined && !Array.isArray(current)) {
        throw new ServerError(2, `The field '${parts.join('.')}' must be an array but is of type ${bsonType(current) ?? typeof current} in document {_id: ${String(doc['_id'])}}`);
      }
      const spec = isPlainDocument(arg) && '$each' in arg ? arg : undefined;
      const items = (spec ? (spec['$each'] as unknown[]) : [arg]).map(cloneValue);
      const base = current ? [...current] : [];
      if (op === '$addToSet') {
        const before = base.length;
        for (const item of items) if (!base.some((x) => valuesEqual(x, item))) base.push(item);
        if (base.length === before && current !== undefined) return;
        setPath(doc, parts, base);
        pushAppends(changes, parts, current, before, base.length);
        return;
      }
      const position = spec?.['$position'] !== undefined ? toNumber(spec['$position']) : undefined;
      const at = position === undefined ? base.length : position < 0 ? Math.max(0, base.length + position) : Math.min(position, base.length);
      base.splice(at, 0, ...items);
      let result = base;
      if (spec?.['$sort'] !== undefined) result = sortArray(result, spec['$sort']);
      if (spec?.['$slice'] !== undefined) {
        const n = toNumber(spec['$slice']);
        result = n >= 0 ? result.slice(0, n) : result.slice(Math.max(0, result.length + n));
      }
      setPath(doc, parts, result);
      if (current !== undefined && at === current.length && spec?.['$sort'] === undefined && spec?.['$slice'] === undefined) pushAppends(changes, parts, current, current.length, result.length);
      else changes.push({ parts, kind: 'set' });
      return;
    }
    case '$pop': {
      if (current === undefined) return;
      if (!Array.isArray(current)) throw new ServerError(14, `Path '${parts.join('.')}' contains an element of non-array type '${bsonType(current) ?? typeof current}'`);
      if (current.length === 0) return;
      const fromFront = toNumber(arg) < 0;
      const result = fromFront ? current.slice(1) : current.slice(0, -1);
      setPath(doc, parts, result);
      changes.push(fromFront ? { parts, kind: 'set' } : { parts, kind: 'truncate', newSize: result.length });
      return;
    }
    case '$pull':
    case '$pullAll': {
      if (current === undefined) return;
      if (!Array.isArray(current)) throw new ServerError(2, `Cannot apply ${op} to a non-array value`);
      let keep: (x: unknown) => boolean;
      if (op === '$pullAll') {
        const values = arg as unknown[];
        keep = (x) => !values.some((v) => valuesEqual(x, v));
      } else if (isPlainDocument(arg) && Object.keys(arg).length > 0 && !Object.keys(arg)[0].startsWith('$')) {
        const m = compileFilter(arg);
        keep = (x) => !(isPlainDocument(x) && m(x));
      } else if (isPlainDocument(arg) && Object.keys(arg)[0]?.startsWith('$')) {
        const m = compileFilter({ v: arg });
        keep = (x) => !m({ v: x });
      } else {
        keep = (x) => !valuesEqual(x, arg);
      }
      const result = current.filter(keep);
      if (result.length === current.length) return;
      setPath(doc, parts, result);
      changes.push({ parts, kind: 'set' });
      return;
    }
  }
}

function pushAppends(changes: Change[], parts: string[], current: unknown[] | undefined, from: number, to: number): void {
  if (current === undefined) {
    changes.push({ parts, kind: 'set' });
    return;
  }
  for (let i = from; i < to; i++) changes.push({ parts: [...parts, String(i)], kind: 'set' });
}

function sortArray(arr: unknown[], spec: unknown): unknown[] {
  const copy = [...arr];
  if (isPlainDocument(spec)) {
    const keys = Object.entries(spec).map(([k, d]) => [k.split('.'), toNumber(d)] as const);
    return copy.sort((a, b) => {
      for (const [path, dir] of keys) {
        const c = compareValues(getPath(a, path), getPath(b, path));
        if (c !== 0) return c * dir;
      }
      return 0;
    });
  }
  const dir = toNumber(spec);
  return copy.sort((a, b) => compareValues(a, b) * dir);
}

type NumKind = 'int' | 'long' | 'double' | 'decimal';

function kindOf(v: unknown): NumKind {
  switch (bsonType(v)) {
    case 'Int32':
      return 'int';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'Double':
      return 'double';
  }
  if (typeof v === 'bigint') return 'long';
  return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? 'int' : 'double';
}

function zeroLike(v: unknown): unknown {
  const k = kindOf(v);
  return k === 'int' ? new Int32(0) : k === 'long' ? Long.ZERO : k === 'decimal' ? Decimal128.fromString('0') : new Double(0);
}

const bigOf = (v: unknown): bigint => (typeof v === 'bigint' ? v : bsonType(v) === 'Long' ? BigInt((v as Long).toString()) : BigInt(Math.trunc(toNumber(v))));

/** a ∘ b in the wider of the two numeric types; int32 overflow widens to int64, as on the server. */
function arithmetic(a: unknown, b: unknown, f: (x: number, y: number) => number, g: (x: bigint, y: bigint) => bigint): unknown {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka === 'decimal' || kb === 'decimal') return Decimal128.fromString(String(f(toNumber(a), toNumber(b))));
  if (ka === 'double' || kb === 'double') return new Double(f(toNumber(a), toNumber(b)));
  const r = g(bigOf(a), bigOf(b));
  if (ka === 'int' && kb === 'int' && r >= -(2n ** 31n) && r < 2n ** 31n) return new Int32(Number(r));
  if (r >= -(2n ** 63n) && r < 2n ** 63n) return Long.fromBigInt(r);
  return new Double(Number(r));
}

/** The oplog diff's view of what changed, from the paths the operators touched. */
function describe(before: Document, after: Document, changes: Change[]): UpdateDescription {
  const updatedFields: Document = {};
  const removed = new Set<string>();
  const truncatedArrays: UpdateDescription['truncatedArrays'] = [];
  for (const c of changes) {
    if (c.kind === 'truncate') {
      truncatedArrays.push({ field: c.parts.join('.'), newSize: new Int32(c.newSize ?? 0) });
      continue;
    }
    if (c.kind === 'unset') {
      const parent = getPath(before, c.parts.slice(0, -1));
      if (Array.isArray(parent)) updatedFields[c.parts.join('.')] = null; // an array element becomes null
      else if (hasPath(before, c.parts) && !hasPath(after, c.parts)) removed.add(c.parts.join('.'));
      continue;
    }
    // The first component that did not exist before is what the diff inserts.
    let k = 0;
    while (k < c.parts.length - 1 && hasPath(before, c.parts.slice(0, k + 1))) k++;
    const reported = hasPath(before, c.parts.slice(0, k + 1)) ? c.parts : c.parts.slice(0, k + 1);
    const key = reported.join('.');
    const value = getPath(after, reported);
    if (hasPath(before, reported) && exactEqual(getPath(before, reported), value)) continue;
    if (!hasPath(after, reported)) continue;
    updatedFields[key] = value;
    removed.delete(key);
  }
  return { updatedFields, removedFields: [...removed], truncatedArrays };
}
