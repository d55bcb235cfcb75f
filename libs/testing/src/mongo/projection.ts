import type { Document } from 'bson';
import { getPath } from './document-paths';
import { bsonType, isNumeric, isPlainDocument, toNumber } from './bson-values';
import { ServerError } from './server-error';

/**
 * Projections as `find` and `$project` apply them: inclusion (`{a: 1, 'b.c': 1}`, `_id` kept
 * unless `_id: 0`) or exclusion (`{a: 0}`), never both except for `_id`; dotted paths reach into
 * sub-documents and arrays of them. In inclusion mode a field may also be computed: `'$path'`
 * copies another field, `{$literal: v}` or any other non-numeric scalar sets a constant.
 */
export type Projector = (doc: Document) => Document;

interface Tree {
  fields: Map<string, Tree | 'include' | 'exclude' | Computed>;
}

interface Computed {
  computed: (root: Document) => unknown;
}

const isComputed = (v: unknown): v is Computed => typeof v === 'object' && v !== null && 'computed' in v;

export function compileProjection(spec: Document | undefined | null): Projector | undefined {
  if (!spec || Object.keys(spec).length === 0) return undefined;
  const root: Tree = { fields: new Map() };
  let inclusion: boolean | undefined;
  let excludeId = false;
  const put = (path: string, leaf: 'include' | 'exclude' | Computed) => {
    const parts = path.split('.');
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const existing = node.fields.get(parts[i]);
      if (existing === undefined) {
        const created: Tree = { fields: new Map() };
        node.fields.set(parts[i], created);
        node = created;
      } else if (typeof existing === 'object' && 'fields' in existing) {
        node = existing;
      } else {
        throw new ServerError(31250, `Path collision at ${path}`);
      }
    }
    node.fields.set(parts[parts.length - 1], leaf);
  };
  const visit = (prefix: string, s: Document) => {
    for (const [key, value] of Object.entries(s)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (key.startsWith('$')) throw new ServerError(2, `projection operator ${key} is not supported by the stand-in`);
      const flag = typeof value === 'boolean' ? value : isNumeric(value) ? toNumber(value) !== 0 : undefined;
      if (flag !== undefined) {
        if (path === '_id') {
          excludeId = !flag;
          if (!flag) continue;
          put(path, 'include');
          continue;
        }
        if (inclusion === undefined) inclusion = flag;
        else if (inclusion !== flag) {
          throw new ServerError(inclusion ? 31254 : 31253, inclusion ? `Cannot do exclusion on field ${path} in inclusion projection` : `Cannot do inclusion on field ${path} in exclusion projection`);
        }
        put(path, flag ? 'include' : 'exclude');
      } else if (isPlainDocument(value) && Object.keys(value).length > 0 && !Object.keys(value)[0].startsWith('$')) {
        visit(path, value);
      } else {
        if (inclusion === false) throw new ServerError(31253, `Cannot do computed field ${path} in exclusion projection`);
        inclusion = true;
        put(path, { computed: computedValue(value) });
      }
    }
  };
  visit('', spec);
  if (inclusion === undefined) inclusion = !excludeId ? true : false;
  if (excludeId) root.fields.set('_id', 'exclude');
  else if (inclusion && !root.fields.has('_id')) root.fields.set('_id', 'include');
  const mode = inclusion;
  return (doc) => (mode ? include(doc, root, doc) : exclude(doc, root));
}

function computedValue(value: unknown): (root: Document) => unknown {
  if (typeof value === 'string' && value.startsWith('$')) {
    const parts = value.slice(1).split('.');
    return (root) => getPath(root, parts);
  }
  if (isPlainDocument(value) && '$literal' in value) return () => value['$literal'];
  if (isPlainDocument(value) && Object.keys(value)[0]?.startsWith('$')) {
    throw new ServerError(2, `expression ${Object.keys(value)[0]} is not supported by the stand-in`);
  }
  if (bsonType(value) === undefined && typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)) {
    throw new ServerError(2, 'unsupported projection value');
  }
  return () => value;
}

function include(doc: Document, tree: Tree, root: Document): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const rule = tree.fields.get(key);
    if (rule === undefined || rule === 'exclude' || isComputed(rule)) continue;
    const v = doc[key];
    if (rule === 'include') out[key] = v;
    else if (Array.isArray(v)) out[key] = includeArray(v, rule, root);
    else if (isPlainDocument(v)) out[key] = include(v, rule, root);
  }
  for (const [key, rule] of tree.fields) {
    if (isComputed(rule)) {
      const v = rule.computed(root);
      if (v !== undefined) out[key] = v;
    } else if (typeof rule === 'object' && hasComputed(rule) && !(key in out)) {
      const sub = include({}, rule, root);
      if (Object.keys(sub).length > 0) out[key] = sub;
    }
  }
  return out;
}

function hasComputed(tree: Tree): boolean {
  for (const rule of tree.fields.values()) if (isComputed(rule) || (typeof rule === 'object' && 'fields' in rule && hasComputed(rule))) return true;
  return false;
}

function includeArray(arr: unknown[], tree: Tree, root: Document): unknown[] {
  const out: unknown[] = [];
  for (const el of arr) {
    if (Array.isArray(el)) out.push(includeArray(el, tree, root));
    else if (isPlainDocument(el)) out.push(include(el, tree, root));
  }
  return out;
}

function exclude(doc: Document, tree: Tree): Document {
  const out: Document = {};
  for (const key of Object.keys(doc)) {
    const rule = tree.fields.get(key);
    const v = doc[key];
    if (rule === 'exclude') continue;
    if (rule === undefined || rule === 'include' || isComputed(rule)) out[key] = v;
    else if (Array.isArray(v)) out[key] = v.map((el) => (isPlainDocument(el) ? exclude(el, rule) : el));
    else if (isPlainDocument(v)) out[key] = exclude(v, rule);
    else out[key] = v;
  }
  return out;
}
