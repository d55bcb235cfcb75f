import type { IncomingMessage } from 'node:http';
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

const BOUNDS = Symbol('runnel.inputBounds');

/** The server puts its configured bounds on each request, so the body reader finds them there. */
export function setInputBounds(req: IncomingMessage, bounds: InputBounds): void {
  (req as IncomingMessage & { [BOUNDS]?: InputBounds })[BOUNDS] = bounds;
}

export function inputBoundsOf(req: IncomingMessage): InputBounds {
  return (req as IncomingMessage & { [BOUNDS]?: InputBounds })[BOUNDS] ?? DEFAULT_INPUT_BOUNDS;
}

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
