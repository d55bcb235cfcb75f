import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Guard, GuardContext } from '../http/guard';
import type { Endpoint } from '../registry/endpoint';
import type { ResolvedRoute } from '../registry/resolved-route';
import { HttpError } from '../protocol/http-error';

/** For the guard specs: what one request through the harness answered. */
export interface GuardReply {
  status: number;
  body: { detail?: unknown; caller?: string; kind?: string };
  headers: Headers;
}

export interface GuardHarness {
  /** Sends a request for `endpoint` on the runnable at `path` (no leading slash) with these headers. */
  call(path: string, endpoint: Endpoint, headers?: Record<string, string>): Promise<GuardReply>;
  close(): Promise<void>;
}

/**
 * A loopback HTTP server that runs guards in order as the gateway does: the route and endpoint from
 * the URL (`/<path>/<endpoint>`), an HttpError answered as JSON `{detail}` with its headers; after the
 * last guard, 200 with the identity the guards established (ctx.identity).
 */
export async function startGuardHarness(guards: Guard[]): Promise<GuardHarness> {
  const server: Server = createServer((req, res) => {
    const parts = (req.url ?? '/').slice(1).split('/');
    const endpoint = parts.pop() as Endpoint;
    const route = { path: parts.join('/') } as ResolvedRoute;
    // `as`: fields the identity guards do not read (config hash…) stay unset.
    const ctx = { req, res, requestId: randomUUID(), route, endpoint, identity: undefined, onClose: (fn: () => void) => res.once('close', fn) } as unknown as GuardContext;
    const run = async () => {
      for (const guard of guards) await guard.check(ctx);
    };
    run().then(
      () => {
        const body = { caller: ctx.identity?.name, kind: ctx.identity?.kind };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      },
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        const detail = err instanceof HttpError ? err.detail : String(err);
        res.writeHead(status, { 'content-type': 'application/json', ...(err instanceof HttpError ? err.headers : {}) }).end(JSON.stringify({ detail }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    async call(path, endpoint, headers = {}) {
      const res = await fetch(`${base}/${path}/${endpoint}`, { headers });
      return { status: res.status, body: await res.json(), headers: res.headers };
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
