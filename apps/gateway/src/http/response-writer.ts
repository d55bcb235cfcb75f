import type { ServerResponse } from 'node:http';

const REQUEST_ID = Symbol('runnel.requestId');
const EXTRA_HEADERS = Symbol('runnel.extraHeaders');

type WithExtra = ServerResponse & { [EXTRA_HEADERS]?: Record<string, string> };

/**
 * The request id travels on the response object and goes out in the single writeHead call: a
 * `setHeader` before `writeHead` sends Node down its slower header-merging path (the request id
 * with its header measured about 1.5 µs per request: docs/benchmarks.md).
 */
export function setRequestId(res: ServerResponse, id: string): void {
  (res as ServerResponse & { [REQUEST_ID]?: string })[REQUEST_ID] = id;
}

export function requestIdOf(res: ServerResponse): string | undefined {
  return (res as ServerResponse & { [REQUEST_ID]?: string })[REQUEST_ID];
}

/** Response headers as Node's flat [name, value, …] array (its fastest form), with the request id. */
export function headerList(res: ServerResponse, headers: Record<string, string | number>): string[] {
  const list: string[] = [];
  for (const name in headers) list.push(name, String(headers[name]));
  // The response's own headers win: a 429 already carries its RateLimit fields.
  return withExtraHeaders(res, list, headers);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Readonly<Record<string, string>>): void {
  if (res.headersSent || res.destroyed) return;
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** sendJson for a body already serialised (the agent API's, whose messages serialise in their dict form). */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers?: Readonly<Record<string, string>>): void {
  if (res.headersSent || res.destroyed) return;
  const length = String(Buffer.byteLength(text));
  // Most answers (every 200) carry no headers of their own: the list is built directly, with no
  // header object in between (the same list headerList would make from one).
  const list =
    headers === undefined || isEmpty(headers)
      ? withExtraHeaders(res, ['content-type', 'application/json', 'content-length', length], JSON_HEADER_NAMES)
      : headerList(res, { 'content-type': 'application/json', 'content-length': length, ...headers });
  res.writeHead(status, list);
  res.end(text);
}

/** The names sendJson sets itself, as an object: `in` answers for them exactly as for headerList's object. */
const JSON_HEADER_NAMES: Readonly<Record<string, string>> = Object.freeze({ 'content-type': '', 'content-length': '' });

function isEmpty(headers: Readonly<Record<string, string>>): boolean {
  for (const _ in headers) return false;
  return true;
}

/** `list` with the recorded extra headers (those not named in `own`) and the request id appended, as headerList does. */
function withExtraHeaders(res: ServerResponse, list: string[], own: Readonly<Record<string, string | number>>): string[] {
  const extra = (res as WithExtra)[EXTRA_HEADERS];
  if (extra !== undefined) for (const name in extra) if (!(name in own)) list.push(name, extra[name]);
  const id = requestIdOf(res);
  if (id !== undefined) list.push('x-request-id', id);
  return list;
}

/**
 * Headers a guard decided before the response is written (the RateLimit fields), kept on the
 * response object until the single writeHead call: a `setHeader` before `writeHead` sends Node down
 * its slower header-merging path. Names must be lower-case; a later call adds to (and overrides)
 * an earlier one's.
 */
export function setExtraHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  const r = res as WithExtra;
  r[EXTRA_HEADERS] = r[EXTRA_HEADERS] ? { ...r[EXTRA_HEADERS], ...headers } : { ...headers };
}

/** The headers setExtraHeaders recorded, or undefined (most responses: no object is allocated for them). */
export function extraHeadersOf(res: ServerResponse): Readonly<Record<string, string>> | undefined {
  return (res as WithExtra)[EXTRA_HEADERS];
}
