import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunnableLambda } from '@langchain/core/runnables';
import { chromium, type Browser } from 'playwright-core';
import { z } from 'zod';
import { ENDPOINTS } from '../src/registry/endpoint';
import { startTestGateway, type TestGateway } from './gateway-harness';

/**
 * GET /openapi.json (OpenAPI 3.1 built from the registry) and GET /docs (a page rendering it, in
 * Debian's chromium driven by playwright-core).
 */
const CHROMIUM = '/usr/bin/chromium';
const SERVED = ENDPOINTS.filter((e) => e !== 'config_hashes');
const POSTS = new Set(['invoke', 'batch', 'stream', 'stream_log', 'stream_events']);
const SSE = new Set(['stream', 'stream_log', 'stream_events']);
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

type Doc = Record<string, any>;

jest.setTimeout(15_000);

const Ticket = z.object({ title: z.string().min(1), priority: z.enum(['low', 'high']), tags: z.array(z.string()).optional() });

async function getDoc(gw: TestGateway, headers: Record<string, string> = {}): Promise<{ status: number; doc: Doc; headers: Headers }> {
  const res = await fetch(`${gw.url}/openapi.json`, { headers });
  return { status: res.status, doc: (await res.json()) as Doc, headers: res.headers };
}

function resolvePointer(doc: Doc, ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .map((k) => decodeURIComponent(k).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((acc, k) => (acc === undefined || acc === null ? undefined : acc[k]), doc);
}

/** Every `$ref` anywhere in the document, with where it was found. */
function refsOf(value: unknown, at = '#', out: { at: string; ref: string }[] = []): { at: string; ref: string }[] {
  if (Array.isArray(value)) value.forEach((v, i) => refsOf(v, `${at}/${i}`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push({ at, ref: v });
      else refsOf(v, `${at}/${k}`, out);
    }
  }
  return out;
}

/** The structural rules of OpenAPI 3.1 this document must meet. */
function expectValidOpenApi31(doc: Doc): void {
  expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
  expect(typeof doc.info?.title).toBe('string');
  expect(typeof doc.info?.version).toBe('string');
  expect(typeof doc.paths).toBe('object');
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<Doc>(doc.paths)) {
    expect(path.startsWith('/')).toBe(true);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries<Doc>(item)) {
      expect(HTTP_METHODS).toContain(method);
      expect(typeof op.operationId).toBe('string');
      expect(operationIds.has(op.operationId)).toBe(false);
      operationIds.add(op.operationId);
      const params = (op.parameters ?? []).map((p: Doc) => (p.$ref ? resolvePointer(doc, p.$ref) : p) as Doc);
      for (const p of params) {
        expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
        if (p.in === 'path') expect(p.required).toBe(true);
      }
      // Every template variable is declared as a path parameter, and no other path parameter is.
      expect(params.filter((p: Doc) => p.in === 'path').map((p: Doc) => p.name).sort()).toEqual([...templated].sort());
      expect(Object.keys(op.responses ?? {}).length).toBeGreaterThan(0);
      for (const [status, res] of Object.entries<Doc>(op.responses)) {
        expect(status).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
        expect(typeof (res.$ref ? (resolvePointer(doc, res.$ref) as Doc) : res).description).toBe('string');
      }
      if (op.requestBody) expect(Object.keys(op.requestBody.content).length).toBeGreaterThan(0);
      for (const requirement of op.security ?? []) {
        for (const scheme of Object.keys(requirement)) expect(doc.components?.securitySchemes?.[scheme]).toBeDefined();
      }
    }
  }
  for (const name of Object.keys(doc.components?.schemas ?? {})) expect(name).toMatch(/^[a-zA-Z0-9.\-_]+$/);
  const unresolved = refsOf(doc).filter(({ ref }) => resolvePointer(doc, ref) === undefined);
  expect(unresolved).toEqual([]);
}

function expectedPaths(route: string, endpoints: readonly string[], hashes: boolean): string[] {
  const bases = hashes ? [`/${route}`, `/${route}/c/{config_hash}`] : [`/${route}`];
  return bases.flatMap((b) => endpoints.map((e) => `${b}/${e}`));
}

describe('/openapi.json', () => {
  let gw: TestGateway;
  let moduleFile: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-openapi-'));
    moduleFile = join(dir, 'openapi-runnables.cjs');
    writeFileSync(
      moduleFile,
      `const { RunnableLambda } = require(${JSON.stringify(require.resolve('@langchain/core/runnables'))});
       exports.register = (registry) => {
         registry.addRoutes(RunnableLambda.from((x) => String(x).toUpperCase()), { path: 'upper', enabledEndpoints: ['invoke', 'input_schema'], description: 'Upper-cases text' });
       };`,
    );
    gw = await startTestGateway({ RUNNABLES_MODULE: moduleFile }, {
      register: (registry) => {
        registry.addRoutes(RunnableLambda.from((t: z.infer<typeof Ticket>) => `${t.priority}: ${t.title}`), {
          path: 'ticket',
          inputSchema: Ticket,
          outputSchema: z.string(),
          configurableSchema: z.object({ team: z.string() }),
          disabledEndpoints: ['stream_log', 'playground'],
          exampleInput: { title: 'Printer on fire', priority: 'high' },
        });
        const Tree: z.ZodType<{ name: string; children: unknown[] }> = z.lazy(() => z.object({ name: z.string(), children: z.array(Tree) }));
        registry.addRoutes(RunnableLambda.from((t: unknown) => t), { path: 'tree', inputSchema: Tree, enabledEndpoints: ['invoke', 'input_schema', 'config_hashes'] });
      },
    });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('is a structurally valid OpenAPI 3.1 document whose $refs all resolve', async () => {
    const { status, doc, headers } = await getDoc(gw);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(headers.get('x-request-id')).toBeTruthy();
    expectValidOpenApi31(doc);
    // No auth configured: no security scheme, no requirement.
    expect(doc.components.securitySchemes).toBeUndefined();
    expect(doc.security).toBeUndefined();
  });

  it('has every enabled endpoint of every route, with its c/{config_hash} twin, and nothing disabled', async () => {
    const { doc } = await getDoc(gw);
    const paths = Object.keys(doc.paths).sort();
    const ticketEndpoints = SERVED.filter((e) => e !== 'stream_log' && e !== 'playground');
    const expected = [
      ...expectedPaths('echo', SERVED, true),
      ...expectedPaths('chat', SERVED, true),
      ...expectedPaths('upper', ['invoke', 'input_schema'], false),
      ...expectedPaths('ticket', ticketEndpoints, true),
      ...expectedPaths('tree', ['invoke', 'input_schema'], true),
    ].sort();
    expect(paths).toEqual(expected);
    expect(paths).not.toContain('/ticket/stream_log');
    expect(paths).not.toContain('/ticket/playground');
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      const endpoint = path.split('/').pop() as string;
      expect(Object.keys(item)).toEqual([POSTS.has(endpoint) ? 'post' : 'get']);
      const op = Object.values<Doc>(item)[0];
      if (SSE.has(endpoint)) expect(Object.keys(op.responses['200'].content)).toEqual(['text/event-stream']);
      if (endpoint === 'playground') expect(Object.keys(op.responses['200'].content)).toEqual(['text/html']);
      if (POSTS.has(endpoint)) {
        for (const s of ['400', '408', '413', '422', '500', '503', '504']) expect(op.responses[s]).toBeDefined();
        expect(op.responses['503'].headers['Retry-After']).toBeDefined();
        expect(op.responses['401']).toBeUndefined();
      }
      for (const [s, res] of Object.entries<Doc>(op.responses)) {
        if (s !== '200') expect(res.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
    expect(doc.components.schemas.Error.required).toEqual(['detail']);
  });

  it('types the bodies with the route\'s zod schemas, as input_schema serves them', async () => {
    const { doc } = await getDoc(gw);
    const served = await (await fetch(`${gw.url}/ticket/input_schema`)).json();
    const { $schema: _drop, ...input } = served;
    expect(doc.components.schemas['ticket.Input']).toEqual(input);
    expect(doc.components.schemas['ticket.Input'].properties.priority.enum).toEqual(['low', 'high']);
    const invoke = doc.paths['/ticket/invoke'].post;
    const body = invoke.requestBody.content['application/json'];
    expect(body.schema.properties.input).toEqual({ $ref: '#/components/schemas/ticket.Input' });
    expect(body.example).toEqual({ input: { title: 'Printer on fire', priority: 'high' }, config: {} });
    expect(invoke.responses['200'].content['application/json'].schema.properties.output).toEqual({ $ref: '#/components/schemas/ticket.Output' });
    expect(doc.components.schemas['ticket.Output'].type).toBe('string');
    const batch = doc.paths['/ticket/batch'].post.requestBody.content['application/json'].schema;
    expect(batch.properties.inputs.items).toEqual({ $ref: '#/components/schemas/ticket.Input' });
    // The config schema's configurable model is hoisted into components and referenced from there.
    expect(doc.components.schemas['ticket.Config'].properties.configurable.$ref).toBe('#/components/schemas/ticket.Config.Configurable');
    expect(doc.components.schemas['ticket.Config.Configurable'].properties.team.type).toBe('string');
    // A recursive schema's self-references point into components.
    expect(JSON.stringify(doc.components.schemas['tree.Input'])).toContain('#/components/schemas/tree.Input');
    // The schema endpoints name the component they serve.
    expect(doc.paths['/ticket/input_schema'].get.responses['200'].description).toContain('components/schemas/ticket.Input');
    // c/{config_hash} operations take the hash parameter and document its errors.
    const hashed = doc.paths['/ticket/c/{config_hash}/invoke'].post;
    expect(hashed.parameters).toEqual([{ $ref: '#/components/parameters/ConfigHash' }]);
    expect(hashed.responses['414']).toBeDefined();
  });

  it('includes a route registered by a RUNNABLES_MODULE register()', async () => {
    const { doc } = await getDoc(gw);
    expect(doc.paths['/upper/invoke'].post.tags).toEqual(['upper']);
    expect(doc.tags).toContainEqual({ name: 'upper', description: 'Upper-cases text' });
    expect(doc.paths['/upper/batch']).toBeUndefined();
  });

  it('answers HEAD and refuses other methods', async () => {
    expect((await fetch(`${gw.url}/openapi.json`, { method: 'HEAD' })).status).toBe(200);
    const post = await fetch(`${gw.url}/openapi.json`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect((await post.json()).detail).toMatch(/use GET/);
  });
});

describe('/openapi.json and /docs with GATEWAY_API_KEYS', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ GATEWAY_API_KEYS: 'k1', CORS_ORIGINS: 'https://app.example' });
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('is served without a key and declares the API-key schemes on every operation but the playground', async () => {
    const { status, doc, headers } = await getDoc(gw, { origin: 'https://app.example' });
    expect(status).toBe(200);
    expect(headers.get('access-control-allow-origin')).toBe('https://app.example');
    expectValidOpenApi31(doc);
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(doc.components.securitySchemes.apiKeyHeader).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }));
    expect(doc.paths['/echo/invoke'].post.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
    expect(doc.paths['/echo/invoke'].post.responses['401']).toBeDefined();
    expect(doc.paths['/echo/playground'].get.security).toEqual([]);
    expect(doc.paths['/echo/playground'].get.responses['401']).toBeUndefined();
    // The key is still needed where the document says it is.
    expect((await fetch(`${gw.url}/echo/input_schema`)).status).toBe(401);
    expect((await fetch(`${gw.url}/docs`)).status).toBe(200);
  });
});

describe('/docs in chromium', () => {
  let browser: Browser;
  let gw: TestGateway;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (tools/dev/ensure-deps.sh --test does this as root).`);
    }
    [browser, gw] = await Promise.all([
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
      startTestGateway({}, {
        register: (registry) => {
          registry.addRoutes(RunnableLambda.from((t: z.infer<typeof Ticket>) => t.title), { path: 'ticket', inputSchema: Ticket, enabledEndpoints: ['invoke', 'input_schema'], exampleInput: { title: 'x', priority: 'low' } });
        },
      }),
    ]);
  }, 20_000);

  afterAll(async () => {
    await Promise.all([browser?.close(), gw?.close()]);
  });

  it('renders every runnable\'s operations from /openapi.json, talking to its own origin only, under a CSP', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(5_000);
      const requests: string[] = [];
      const problems: string[] = [];
      await page.route('**/*', (route) => {
        requests.push(route.request().url());
        return new URL(route.request().url()).origin === gw.url ? route.continue() : route.abort();
      });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error' || /content security policy/i.test(m.text())) problems.push(m.text());
      });
      const res = await page.goto(`${gw.url}/docs`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()['content-type']).toMatch(/^text\/html/);
      const csp = res?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("connect-src 'self'");
      await page.waitForSelector('section[data-runnable="ticket"]');
      const rendered = await page.$$eval('details.op[data-path]', (els) => els.map((e) => e.getAttribute('data-path')));
      const doc = (await (await fetch(`${gw.url}/openapi.json`)).json()) as Doc;
      expect(rendered.sort()).toEqual(Object.keys(doc.paths).sort());
      expect(await page.$$eval('section[data-runnable]', (els) => els.map((e) => e.getAttribute('data-runnable')))).toEqual(['echo', 'chat', 'ticket']);
      // Opening an operation shows its request body schema and example.
      await page.click('details[data-path="/ticket/invoke"] > summary');
      const text = await page.textContent('details[data-path="/ticket/invoke"]');
      expect(text).toContain('#/components/schemas/ticket.Input');
      expect(text).toContain('"priority": "low"');
      expect(await page.isVisible('#schema-ticket\\.Input')).toBe(true);
      expect(requests.length).toBeGreaterThanOrEqual(2);
      expect(requests.filter((u) => new URL(u).origin !== gw.url)).toEqual([]);
      expect(requests).toContain(`${gw.url}/openapi.json`);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
