import type { IncomingMessage } from 'node:http';
import { HttpError, RequestValidationError } from './http-error';
import { checkInputBounds, inputBoundsOf } from './input-bounds';

/**
 * Reads and parses a JSON body, refusing more than `limit` bytes (413) as soon as they arrive,
 * so a huge body is never buffered whole. A declared Content-Length over the limit is refused
 * before reading anything. The parsed value is then checked against the request's input bounds
 * (MAX_INPUT_DEPTH, MAX_INPUT_ITEMS: 422) before anything walks it.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  return (req as PrefetchedRequest)[PREFETCHED] ?? readNow(req, limit);
}

const PREFETCHED = Symbol('runnel.prefetchedBody');
type PrefetchedRequest = IncomingMessage & { [PREFETCHED]?: Promise<unknown> };

/**
 * Starts reading the body and resolves once it has arrived, failed or been refused; never rejects.
 * The server awaits it before admitting the request, so a client still sending its body (for up to
 * BODY_TIMEOUT) holds no run slot. The endpoint's own `readJsonBody` then gets the same outcome.
 */
export function prefetchJsonBody(req: IncomingMessage, limit: number): Promise<void> {
  const body = readNow(req, limit);
  (req as PrefetchedRequest)[PREFETCHED] = body;
  return body.then(
    () => undefined,
    () => undefined,
  );
}

function readNow(req: IncomingMessage, limit: number): Promise<unknown> {
  if (req.readableEnded) return alreadyRead(req, limit);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      if (text.trim() === '') {
        reject(new RequestValidationError('Request body is empty: expected a JSON object'));
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        reject(new RequestValidationError(`Malformed JSON body: ${shorten((err as Error).message)}`));
        return;
      }
      try {
        checkInputBounds(parsed, inputBoundsOf(req));
      } catch (err) {
        reject(err);
        return;
      }
      resolve(parsed);
    });
    req.on('error', (err) => {
      if (failed) return;
      failed = true;
      reject(new HttpError(400, `Could not read request body: ${err.message}`));
    });
  });
}

/**
 * The body was read before the gateway saw the request: an app's own parser ran first (Express's
 * `express.json()` leaves the value in `req.body`, `express.text()`/`raw()` a string or Buffer).
 * The parsed value gets the same checks as one the gateway parsed itself: bounds (422) and size
 * (413, as re-serialized, since the bytes are gone).
 */
function alreadyRead(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = (req as IncomingMessage & { body?: unknown }).body;
  if (body === undefined) {
    return Promise.reject(new HttpError(400, 'Request body was already consumed by another handler and not left in req.body; mount the gateway before it or use express.json()'));
  }
  let parsed: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString();
    if (Buffer.byteLength(text) > limit) return Promise.reject(tooLarge(limit));
    if (text.trim() === '') return Promise.reject(new RequestValidationError('Request body is empty: expected a JSON object'));
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return Promise.reject(new RequestValidationError(`Malformed JSON body: ${shorten((err as Error).message)}`));
    }
  }
  try {
    // Bounds first: re-serializing a 100,000-deep value to measure it would overflow the stack.
    checkInputBounds(parsed, inputBoundsOf(req));
    if (typeof body !== 'string' && !Buffer.isBuffer(body) && Buffer.byteLength(JSON.stringify(parsed) ?? '') > limit) return Promise.reject(tooLarge(limit));
  } catch (err) {
    return Promise.reject(err);
  }
  return Promise.resolve(parsed);
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body exceeds the ${limit} byte limit`);
}

/** V8's JSON.parse messages quote the text around the error; keep `detail` short whatever the body. */
function shorten(message: string): string {
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
