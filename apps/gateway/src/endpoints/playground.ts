import { headerList, type RequestContext } from '../http/request-context';
import { playgroundPage } from '../playground/playground-page';

/** GET /{path}/playground[/…]: the page itself; it fetches the schema and runs with the caller's key. */
export async function playground(ctx: RequestContext): Promise<void> {
  const html = playgroundPage({
    path: ctx.route.path,
    basePath: ctx.basePath,
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
