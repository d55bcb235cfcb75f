import { RequestValidationError } from './http-error';

/**
 * Shape limits on what a client sends, checked on the parsed JSON before anything walks it.
 * JSON.parse is iterative in V8 and takes any depth, but everything after it recurses: input and
 * configurable schemas (zod), `fromWire`, LangChain's config and callback handling, `toWire` and
 * JSON.stringify of outputs that echo the input. A 100,000-deep array overflows the stack in all of
 * them; a million-entry array makes a schema build a million issues.
 */
export interface InputBounds {
  /** Levels of arrays/objects, the body object itself being level 1 (MAX_INPUT_DEPTH). */
  maxDepth: number;
  /** Entries in any one array or object (MAX_INPUT_ITEMS). */
  maxItems: number;
}

/** The defaults of MAX_INPUT_DEPTH and MAX_INPUT_ITEMS (config.ts), used when a request carries none. */
export const DEFAULT_INPUT_BOUNDS: InputBounds = { maxDepth: 100, maxItems: 10_000 };

/**
 * Longest `c/{hash}` accepted (414 past it), checked before decompressing: LZString's output can grow with
 * the square of its input (an 8,400-character hash of one repeated character decompresses to 10 MB), so
 * only the hash's length bounds the work. A config of a few kilobytes (a long system prompt) fits.
 */
export const MAX_CONFIG_HASH_CHARS = 4_096;

interface Frame {
  value: object;
  depth: number;
  parent: Frame | undefined;
  key: string;
}

/**
 * Walks `value` iteratively (an explicit stack, so any depth is safe to check) and throws a 422
 * naming the limit and where it was exceeded, e.g. `body.input.0.0: nested deeper than
 * MAX_INPUT_DEPTH (100) levels`. Scalars are never pushed, so a flat body costs next to nothing.
 */
export function checkInputBounds(value: unknown, bounds: InputBounds, root = 'body'): void {
  if (value === null || typeof value !== 'object') return;
  // The common case, a body within bounds, without a frame per object; only a body that is not
  // gets the walk below, which finds the same first violation and names where it is.
  if (bounds.maxDepth <= MAX_RECURSIVE_DEPTH && withinBounds(value, 1, bounds.maxDepth, bounds.maxItems)) return;
  const stack: Frame[] = [{ value, depth: 1, parent: undefined, key: root }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (frame.depth > bounds.maxDepth) {
      throw new RequestValidationError(`${pathOf(frame)}: nested deeper than MAX_INPUT_DEPTH (${bounds.maxDepth}) levels`);
    }
    const v = frame.value;
    if (Array.isArray(v)) {
      if (v.length > bounds.maxItems) throw tooMany(frame, v.length, bounds);
      for (let i = v.length - 1; i >= 0; i--) {
        const item: unknown = v[i];
        if (item !== null && typeof item === 'object') stack.push({ value: item, depth: frame.depth + 1, parent: frame, key: String(i) });
      }
    } else {
      let count = 0;
      for (const key in v) {
        if (++count > bounds.maxItems) throw tooMany(frame, Object.keys(v).length, bounds);
        const item: unknown = (v as Record<string, unknown>)[key];
        if (item !== null && typeof item === 'object') stack.push({ value: item, depth: frame.depth + 1, parent: frame, key });
      }
    }
  }
}

/** MAX_INPUT_DEPTH's own maximum (config.ts): recursion this deep is far from the stack's limit. */
const MAX_RECURSIVE_DEPTH = 1_000;

/** Whether checkInputBounds would pass `value` (an object at `depth`): the same conditions, recursively. */
function withinBounds(value: object, depth: number, maxDepth: number, maxItems: number): boolean {
  if (depth > maxDepth) return false;
  if (Array.isArray(value)) {
    if (value.length > maxItems) return false;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object' && !withinBounds(item, depth + 1, maxDepth, maxItems)) return false;
    }
    return true;
  }
  let count = 0;
  for (const key in value) {
    if (++count > maxItems) return false;
    const item: unknown = (value as Record<string, unknown>)[key];
    if (item !== null && typeof item === 'object' && !withinBounds(item, depth + 1, maxDepth, maxItems)) return false;
  }
  return true;
}

function tooMany(frame: Frame, count: number, bounds: InputBounds): RequestValidationError {
  return new RequestValidationError(`${pathOf(frame)}: ${count} entries, more than MAX_INPUT_ITEMS (${bounds.maxItems})`);
}

/** `body.input.0.…` with long keys and long paths shortened, so `detail` stays small. */
function pathOf(frame: Frame): string {
  const keys: string[] = [];
  for (let f: Frame | undefined = frame; f; f = f.parent) keys.push(f.key.length > 40 ? `${f.key.slice(0, 40)}…` : f.key);
  keys.reverse();
  return keys.length > 12 ? [...keys.slice(0, 6), `…(${keys.length - 10} more)…`, ...keys.slice(-4)].join('.') : keys.join('.');
}
