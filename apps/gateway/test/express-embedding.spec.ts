import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunnableConfig, RunnableLambda } from '@langchain/core/runnables';
import { parseConfig } from '@runnel/config';
import express from 'express';
import { RemoteRunnable } from 'langchain-core-v03/runnables/remote';
import { z } from 'zod';
import { GatewayConfigSchema } from '../src/config';
import {
  addRoutes,
  createAuthenticateGuard,
  createAuthenticators,
  createAuthorizeGuard,
  EmbeddedGateway,
  type Guard,
  HttpError,
  type Identity,
  parseScopes,
} from '../src/embed';
import { IdentityConfig } from '../src/identity/identity-config';
import { EchoRunnable } from '../src/runnables/echo-runnable';
import { postJson } from './gateway-harness';

type AppRequest = IncomingMessage & { user?: string };

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * `addRoutes(app, runnable, options)` on a real Express 5 app with its own middleware: JSON body
 * parsing done before the gateway sees the request, a router mounted at a prefix, its own auth and
 * its own routes beside the runnables.
 */
describe('addRoutes on an Express 5 app', () => {
  let server: Server;
  let url: string;
  let gateway: EmbeddedGateway;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    const app = express();
    app.use(express.json({ limit: '2mb' }));
    const ai = express.Router();
    // The app's own auth: the gateway runs after it and the config modifier reads what it set.
    ai.use((req, res, next) => {
      const user = req.header('x-app-user');
      if (!user) return void res.status(401).json({ error: 'app login required' });
      (req as AppRequest).user = user;
      next();
    });
    ai.get('/hello', (_req, res) => void res.json({ hello: 'from the app' }));
    gateway = addRoutes(ai, new EchoRunnable(), { path: 'echo', gateway: { maxConcurrentRequests: 2, bodyLimit: 10_000 } });
    addRoutes(ai, RunnableLambda.from((x: { a: number; b: number }) => x.a + x.b), {
      path: 'math/add',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
    });
    addRoutes(ai, RunnableLambda.from((_x: unknown, config) => config?.configurable ?? null), {
      path: 'whoami',
      perRequestConfigModifier: (config, req) => ({ ...config, configurable: { ...config.configurable, user: (req as AppRequest).user } }),
    });
    addRoutes(
      ai,
      RunnableLambda.from(async () => {
        await new Promise<void>((resolve) => held.push(resolve));
        return 'done';
      }),
      { path: 'slow' },
    );
    app.use('/ai', ai);
    server = createServer(app);
    gateway.protect(server);
    url = await listen(server);
  });
  afterAll(async () => {
    held.forEach((release) => release());
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const as = { 'x-app-user': 'ada' };

  it('serves invoke, batch and schemas under the router prefix, the app already having parsed the body', async () => {
    const inv = await postJson(`${url}/ai/echo/invoke`, { input: 'hi' }, as);
    expect(inv.status).toBe(200);
    expect(inv.body.output).toBe('hi');
    expect(inv.headers.get('x-request-id')).toBeTruthy();
    const batch = await postJson(`${url}/ai/math/add/batch`, { inputs: [{ a: 1, b: 2 }, { a: 3, b: 4 }] }, as);
    expect(batch.body.output).toEqual([3, 7]);
    const schema = await (await fetch(`${url}/ai/math/add/input_schema`, { headers: as })).json();
    expect(schema.properties).toEqual({ a: { type: 'number' }, b: { type: 'number' } });
  });

  it('keeps the protocol: 422 naming the field, stream frames, run name with the path', async () => {
    const bad = await postJson(`${url}/ai/math/add/invoke`, { input: { a: 'x', b: 2 } }, as);
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toMatch(/^input\.a: .*number/);
    const res = await fetch(`${url}/ai/echo/stream`, { method: 'POST', headers: { ...as, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'abc' }) });
    const text = await res.text();
    expect(text.startsWith('event: metadata\r\ndata: {"run_id": "')).toBe(true);
    expect(text.endsWith('event: end\r\n\r\n')).toBe(true);
    const events = await (
      await fetch(`${url}/ai/math/add/stream_events`, { method: 'POST', headers: { ...as, 'content-type': 'application/json' }, body: JSON.stringify({ input: { a: 1, b: 1 } }) })
    ).text();
    expect(events).toContain('"name":"/math/add"');
  });

  it('works through RemoteRunnable with the app\'s own auth header', async () => {
    const remote = new RemoteRunnable({ url: `${url}/ai/math/add`, options: { headers: as } });
    expect(await remote.invoke({ a: 20, b: 22 })).toBe(42);
    const chunks: unknown[] = [];
    for await (const c of await new RemoteRunnable({ url: `${url}/ai/echo`, options: { headers: as } }).stream('xy')) chunks.push(c);
    expect(chunks.join('')).toBe('xy');
  });

  it('hands the app\'s identity to the per-request config modifier', async () => {
    const res = await postJson(`${url}/ai/whoami/invoke`, { input: null }, { 'x-app-user': 'grace' });
    expect(res.body.output).toEqual({ user: 'grace' });
  });

  it('leaves the app\'s own middleware, routes and 404s alone', async () => {
    expect((await fetch(`${url}/ai/echo/invoke`, { method: 'POST' })).status).toBe(401);
    expect(await (await fetch(`${url}/ai/hello`, { headers: as })).json()).toEqual({ hello: 'from the app' });
    const elsewhere = await fetch(`${url}/ai/nothing/here`, { headers: as });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.headers.get('x-request-id')).toBeNull(); // Express's 404, not the gateway's
    const unknownEndpoint = await fetch(`${url}/ai/echo/nope`, { headers: as });
    expect(unknownEndpoint.status).toBe(404);
    expect((await unknownEndpoint.json()).detail).toBe('Unknown endpoint "nope" for runnable "echo"');
  });

  it('applies the gateway\'s limits to bodies the app parsed: size, depth', async () => {
    const big = await postJson(`${url}/ai/echo/invoke`, { input: 'x'.repeat(20_000) }, as);
    expect(big.status).toBe(413);
    let deep: unknown = 1;
    for (let i = 0; i < 150; i++) deep = [deep];
    const tooDeep = await postJson(`${url}/ai/echo/invoke`, { input: deep }, as);
    expect(tooDeep.status).toBe(422);
    expect(tooDeep.body.detail).toContain('MAX_INPUT_DEPTH');
  });

  it('refuses past maxConcurrentRequests and counts in its metrics registry', async () => {
    const first = postJson(`${url}/ai/slow/invoke`, { input: 1 }, as);
    const second = postJson(`${url}/ai/slow/invoke`, { input: 1 }, as);
    while (held.length < 2) await new Promise((r) => setTimeout(r, 10));
    const third = await postJson(`${url}/ai/echo/invoke`, { input: 'x' }, as);
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('1');
    held.splice(0).forEach((release) => release());
    expect((await first).body.output).toBe('done');
    expect((await second).body.output).toBe('done');
    const metrics = await gateway.metricsRegistry.metrics();
    expect(metrics).toMatch(/runnel_gateway_requests_total\{runnable="slow",endpoint="invoke",status="200",service="gateway"\} 2/);
    expect(metrics).toMatch(/runnel_gateway_requests_total\{runnable="echo",endpoint="invoke",status="503",service="gateway"\} 1/);
    expect(metrics).toMatch(/runnel_gateway_rejected_total\{reason="overload",service="gateway"\} 1/);
  });

  it('refuses gateway options on a second call for the same app', () => {
    const app = express();
    addRoutes(app, new EchoRunnable(), { path: 'a' });
    expect(() => addRoutes(app, new EchoRunnable(), { path: 'b', gateway: { basePath: '/x' } })).toThrow(/first call/);
  });
});

describe('EmbeddedGateway as a plain node:http handler', () => {
  it('serves the runnables and answers 404 for the rest', async () => {
    const gateway = new EmbeddedGateway({ basePath: '/lc' }).addRoutes(new EchoRunnable(), { path: 'agents/echo' });
    const server = createServer(gateway.listener);
    const url = await listen(server);
    try {
      expect((await postJson(`${url}/lc/agents/echo/invoke`, { input: 'ok' })).body.output).toBe('ok');
      const miss = await postJson(`${url}/other`, { input: 'ok' });
      expect(miss.status).toBe(404);
      expect(miss.body.detail).toBe('Nothing is served outside /lc/');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('an embedded gateway with caller guards', () => {
  it('takes the gateway\'s own API-key guard, or an app\'s guard setting the identity, and the modifier sees the caller', async () => {
    const config = parseConfig({ ...IdentityConfig, GATEWAY_API_KEYS: GatewayConfigSchema.GATEWAY_API_KEYS }, { GATEWAY_API_KEYS: 'k-123456' });
    const authenticator = await createAuthenticators(config);
    const whoami = RunnableLambda.from((_x: unknown, c) => ({ caller: c?.configurable?.caller, meta: c?.metadata?.runnel_caller }));
    const modifier = { perRequestConfigModifier: (c: RunnableConfig, _r: IncomingMessage, caller: Identity | undefined) => ({ ...c, configurable: { caller: caller?.name } }) };
    // An app-defined guard: trusts a header its own proxy sets.
    const fromProxy: Guard = {
      name: 'proxy-identity',
      check(ctx) {
        const user = ctx.req.headers['x-proxy-user'];
        if (typeof user !== 'string') throw new HttpError(401, 'no proxy user');
        ctx.identity = { name: user, kind: 'api_key', scopes: parseScopes(['*:*'], 'proxy') };
      },
    };
    const withKeys = new EmbeddedGateway({ callerGuards: [createAuthenticateGuard({ authenticator: authenticator! }), createAuthorizeGuard()] }).addRoutes(whoami, { path: 'me', ...modifier });
    const withProxy = new EmbeddedGateway({ callerGuards: [fromProxy] }).addRoutes(whoami, { path: 'me', ...modifier });
    const servers = [createServer(withKeys.listener), createServer(withProxy.listener)];
    const [keysUrl, proxyUrl] = await Promise.all(servers.map(listen));
    try {
      expect((await postJson(`${keysUrl}/me/invoke`, { input: 1 })).status).toBe(401);
      expect((await postJson(`${keysUrl}/me/invoke`, { input: 1 }, { 'x-api-key': 'k-123456' })).body.output).toEqual({ caller: 'env-key-1', meta: 'env-key-1' });
      expect((await postJson(`${proxyUrl}/me/invoke`, { input: 1 })).body.detail).toBe('no proxy user');
      expect((await postJson(`${proxyUrl}/me/invoke`, { input: 1 }, { 'x-proxy-user': 'ada' })).body.output).toEqual({ caller: 'ada', meta: 'ada' });
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});
