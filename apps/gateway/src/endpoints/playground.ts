import type { RequestContext } from '../http/request-context';
import { headerList } from '../http/response-writer';
import { playgroundPage } from '../playground/playground-page';

/**
 * The runnable's base path without a trailing `c/{hash}` part, which the server appends to
 * `basePath` when the page is opened from a share link.
 */
export function runBasePathOf(basePath: string, fromShareLink: boolean): string {
  return fromShareLink ? basePath.replace(/\/c\/[^/]*$/, '') : basePath;
}

/** GET /{path}/playground[/…] and /{path}/c/{hash}/playground: the page itself; it fetches the schemas and runs with the caller's key. */
export async function playground(ctx: RequestContext): Promise<void> {
  const html = playgroundPage({
    path: ctx.route.path,
    basePath: ctx.basePath,
    runBasePath: runBasePathOf(ctx.basePath, ctx.hashConfig !== undefined),
    shareConfig: ctx.hashConfig,
    description: ctx.route.description,
    exampleInput: ctx.route.exampleInput,
    authRequired: ctx.authRequired,
  });
  ctx.res.writeHead(200, headerList(ctx.res, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    // The page talks only to its own origin and runs only its own inline script.
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  }));
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : html);
}
