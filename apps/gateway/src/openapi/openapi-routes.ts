import type { IncomingMessage, ServerResponse } from 'node:http';
import { headerList, sendJson } from '../http/response-writer';
import type { RunnableRegistry } from '../registry/runnable-registry';
import { docsPage } from './docs-page';
import { buildOpenApiDocument } from './openapi-document';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

/** One document per registry, auth mode and base path, rebuilt only when the set of routes changes. */
const cache = new WeakMap<RunnableRegistry, { key: string; text: string }>();

function documentText(registry: RunnableRegistry, authRequired: boolean, basePath: string): string {
  const key = `${authRequired}:${basePath}:${registry.paths.join('\n')}`;
  const hit = cache.get(registry);
  if (hit?.key === key) return hit.text;
  const text = JSON.stringify(buildOpenApiDocument(registry, { authRequired, basePath }));
  cache.set(registry, { key, text });
  return text;
}

/**
 * GET /openapi.json and GET /docs. Like the playground page they need no API key: they describe the
 * API and hold no data. CORS is the gateway's, applied before this is reached.
 */
export function serveOpenApi(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  registry: RunnableRegistry,
  authRequired: boolean,
  basePath = '',
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { detail: `Method ${req.method} not allowed on ${path}; use GET`, message: `Method ${req.method} not allowed on ${path}; use GET` }, { allow: 'GET' });
    return;
  }
  const html = path === DOCS_PATH;
  const text = html ? docsPage() : documentText(registry, authRequired, basePath);
  const headers: Record<string, string | number> = {
    'content-type': html ? 'text/html; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  };
  if (html) {
    // The page fetches only its own origin's openapi.json and runs only its own inline script.
    headers['content-security-policy'] =
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'";
  }
  res.writeHead(200, headerList(res, headers));
  res.end(req.method === 'HEAD' ? undefined : text);
}
