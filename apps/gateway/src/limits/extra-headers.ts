import type { ServerResponse } from 'node:http';

const EXTRA_HEADERS = Symbol('runnel.extraHeaders');

type WithExtra = ServerResponse & { [EXTRA_HEADERS]?: Record<string, string> };

/**
 * Headers a guard decided before the response is written (the RateLimit fields), kept on the
 * response object until the single writeHead call: a `setHeader` before `writeHead` sends Node down
 * its slower header-merging path (see http/response-writer.ts). Names must be lower-case; a later
 * call adds to (and overrides) an earlier one's.
 */
export function setExtraHeaders(res: ServerResponse, headers: Readonly<Record<string, string>>): void {
  const r = res as WithExtra;
  r[EXTRA_HEADERS] = r[EXTRA_HEADERS] ? { ...r[EXTRA_HEADERS], ...headers } : { ...headers };
}

/** The headers setExtraHeaders recorded, or undefined (most responses: no object is allocated for them). */
export function extraHeadersOf(res: ServerResponse): Readonly<Record<string, string>> | undefined {
  return (res as WithExtra)[EXTRA_HEADERS];
}
