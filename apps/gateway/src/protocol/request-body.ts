import type { IncomingMessage } from 'node:http';
import { HttpError, RequestValidationError } from './http-error';
import { checkInputBounds, DEFAULT_INPUT_BOUNDS, type InputBounds } from './input-bounds';

/**
 * Reads and parses a JSON body, refusing more than `limit` bytes (413) as soon as they arrive,
 * so a huge body is never buffered whole. A declared Content-Length over the limit is refused
 * before reading anything. The parsed value is then checked against the input bounds
 * (MAX_INPUT_DEPTH, MAX_INPUT_ITEMS: 422) before anything walks it.
 *
 * When the body guard has read the body already (prefetchJsonBody), this is its outcome.
 */
export function readJsonBody(req: IncomingMessage, limit: number, bounds: InputBounds = DEFAULT_INPUT_BOUNDS): Promise<unknown> {
  const outcome = (req as PrefetchedRequest)[PREFETCHED];
  if (outcome !== undefined) return outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(outcome.value);
  return new Promise((resolve, reject) => readBody(req, limit, bounds, (ok, value) => (ok ? resolve(value) : reject(value))));
}

/**
 * The body the body guard read (prefetchJsonBody), without a promise: its parsed value, or its 4xx
 * thrown; `NOT_PREFETCHED` when no guard read it (then use readJsonBody). invoke and stream take it
 * so: one promise and one microtask turn fewer per request than `await readJsonBody(...)`.
 */
export function prefetchedJsonBody(req: IncomingMessage): unknown {
  const outcome = (req as PrefetchedRequest)[PREFETCHED];
  if (outcome === undefined) return NOT_PREFETCHED;
  if (!outcome.ok) throw outcome.value;
  return outcome.value;
}

/** prefetchedJsonBody's answer when the body was not read before the endpoint ran. */
export const NOT_PREFETCHED: unique symbol = Symbol('runnel.notPrefetched');

/** What reading a body came to: the parsed value, or the 4xx it gets. */
type BodyOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly value: unknown };

const PREFETCHED = Symbol('runnel.prefetchedBody');
type PrefetchedRequest = IncomingMessage & { [PREFETCHED]?: BodyOutcome };

/**
 * Reads the body and resolves once it has arrived, failed or been refused; never rejects. The server
 * awaits it before admitting the request, so a client still sending its body (for up to
 * BODY_TIMEOUT) holds no run slot. The endpoint's own `readJsonBody` then gets the same outcome
 * (kept settled on the request: no second promise per request).
 */
export function prefetchJsonBody(req: IncomingMessage, limit: number, bounds: InputBounds = DEFAULT_INPUT_BOUNDS): Promise<void> {
  return new Promise((resolve) =>
    readBody(req, limit, bounds, (ok, value) => {
      (req as PrefetchedRequest)[PREFETCHED] = { ok, value } as BodyOutcome;
      resolve();
    }),
  );
}

/** Calls `done` once: (true, parsed value) or (false, the HttpError to answer). */
type BodyCallback = (ok: boolean, value: unknown) => void;

function readBody(req: IncomingMessage, limit: number, bounds: InputBounds, onDone: BodyCallback): void {
  // Once only: an 'error' after 'end' (or after the 413) does not change the outcome.
  let settled = false;
  const done: BodyCallback = (ok, value) => {
    if (settled) return;
    settled = true;
    onDone(ok, value);
  };
  if (req.readableEnded) return alreadyRead(req, limit, bounds, done);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return done(false, tooLarge(limit));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > limit) {
      failed = true;
      chunks.length = 0;
      done(false, tooLarge(limit));
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (failed) return;
    const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
    parseAndBound(text, bounds, done);
  });
  req.on('error', (err) => {
    if (failed) return;
    failed = true;
    done(false, new HttpError(400, `Could not read request body: ${err.message}`));
  });
}

/** The one parse-and-bounds step of every body text: empty → 422, not JSON → 422, over the bounds → 422. */
function parseAndBound(text: string, bounds: InputBounds, done: BodyCallback): void {
  if (text.trim() === '') return done(false, new RequestValidationError('Request body is empty: expected a JSON object'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return done(false, new RequestValidationError(`Malformed JSON body: ${shorten((err as Error).message)}`));
  }
  try {
    checkInputBounds(parsed, bounds);
  } catch (err) {
    return done(false, err);
  }
  done(true, parsed);
}

/**
 * The body was read before the gateway saw the request: an app's own parser ran first (Express's
 * `express.json()` leaves the value in `req.body`, `express.text()`/`raw()` a string or Buffer).
 * The parsed value gets the same checks as one the gateway parsed itself: bounds (422) and size
 * (413, as re-serialized, since the bytes are gone).
 */
function alreadyRead(req: IncomingMessage, limit: number, bounds: InputBounds, done: BodyCallback): void {
  const body = (req as IncomingMessage & { body?: unknown }).body;
  if (body === undefined) {
    return done(false, new HttpError(400, 'Request body was already consumed by another handler and not left in req.body; mount the gateway before it or use express.json()'));
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString();
    if (Buffer.byteLength(text) > limit) return done(false, tooLarge(limit));
    return parseAndBound(text, bounds, done);
  }
  try {
    // Bounds first: re-serializing a 100,000-deep value to measure it would overflow the stack.
    checkInputBounds(body, bounds);
    if (Buffer.byteLength(JSON.stringify(body) ?? '') > limit) return done(false, tooLarge(limit));
  } catch (err) {
    return done(false, err);
  }
  done(true, body);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body exceeds the ${limit} byte limit`);
}

/** V8's JSON.parse messages quote the text around the error; keep `detail` short whatever the body. */
function shorten(message: string): string {
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
