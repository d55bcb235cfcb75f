import type { Document } from 'bson';
import { isPlainDocument } from './bson-values';
import { ServerError } from './server-error';

/**
 * Dotted field paths (`a.b.0.c`) over stored documents: reading one value, and creating or
 * removing a field the way update operators do (intermediate documents are created; a numeric
 * part addresses an array element; a path through a scalar is not viable).
 */

export function splitPath(path: string): string[] {
  return path.split('.');
}

const isIndex = (part: string) => /^\d+$/.test(part);

/** The single value at a path (numeric parts index arrays), or undefined. */
export function getPath(doc: unknown, parts: readonly string[]): unknown {
  let v: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(v)) {
      if (!isIndex(part)) return undefined;
      v = v[Number(part)];
    } else if (isPlainDocument(v)) {
      v = v[part];
    } else {
      return undefined;
    }
    if (v === undefined) return undefined;
  }
  return v;
}

/** Whether a path exists in the document (a field holding null exists). */
export function hasPath(doc: unknown, parts: readonly string[]): boolean {
  let v: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(v)) {
      if (!isIndex(part) || Number(part) >= v.length) return false;
      v = v[Number(part)];
    } else if (isPlainDocument(v)) {
      if (!Object.prototype.hasOwnProperty.call(v, part)) return false;
      v = v[part];
    } else {
      return false;
    }
  }
  return true;
}

/**
 * Sets a value at a path, creating intermediate documents. The container chain must already be
 * private to the caller (cloned), since it is modified in place. An array grows with nulls up to an
 * index written past its end, as on the server.
 */
export function setPath(doc: Document, parts: readonly string[], value: unknown): void {
  let container: Document | unknown[] = doc;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    if (Array.isArray(container)) {
      if (!isIndex(part)) throw new ServerError(28, `Cannot create field '${part}' in element {${parts.slice(0, i).join('.')}: [...]}`);
      const idx = Number(part);
      while (container.length < idx) container.push(null);
      if (last) {
        container[idx] = value;
        return;
      }
      const next: unknown = container[idx];
      if (next === undefined || next === null) {
        const created: Document = {};
        container[idx] = created;
        container = created;
      } else if (Array.isArray(next) || isPlainDocument(next)) {
        container = next;
      } else {
        throw new ServerError(28, `Cannot create field '${parts[i + 1]}' in element {${part}: ${describe(next)}}`);
      }
      continue;
    }
    if (last) {
      container[part] = value;
      return;
    }
    const next: unknown = container[part];
    if (next === undefined) {
      const created: Document = {};
      container[part] = created;
      container = created;
    } else if (Array.isArray(next) || isPlainDocument(next)) {
      container = next;
    } else {
      throw new ServerError(28, `Cannot create field '${parts[i + 1]}' in element {${part}: ${describe(next)}}`);
    }
  }
}

/** Removes the field at a path; an array element becomes null (the array keeps its length). Returns whether it existed. */
export function unsetPath(doc: Document, parts: readonly string[]): boolean {
  const parent = getPath(doc, parts.slice(0, -1));
  const leaf = parts[parts.length - 1];
  if (Array.isArray(parent)) {
    if (!isIndex(leaf) || Number(leaf) >= parent.length) return false;
    parent[Number(leaf)] = null;
    return true;
  }
  if (!isPlainDocument(parent) || !Object.prototype.hasOwnProperty.call(parent, leaf)) return false;
  delete parent[leaf];
  return true;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
