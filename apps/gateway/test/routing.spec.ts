import { RunnableLambda } from '@langchain/core/runnables';
import { parseConfig } from '@runnel/config';
import { RemoteRunnable } from 'langchain-core-v03/runnables/remote';
import { GatewayConfigSchema } from '../src/config';
import { encodeConfigHash } from '../src/protocol/run-config';
import { postJson, startTestGateway, type TestGateway } from './gateway-harness';

/** Multi-segment runnable paths and a mount prefix (BASE_PATH), as LangServe's `path=` and FastAPI routers allow. */
describe('routing: multi-segment paths under BASE_PATH', () => {
  let gw: TestGateway;
  let api: string;

  beforeAll(async () => {
    gw = await startTestGateway({ BASE_PATH: '/api/v1/' }, {
      register: (r) => {
        r.addRoutes(RunnableLambda.from((x: { q: string }) => ({ answer: `support: ${x.q}` })), { path: '/agents/support' });
        r.addRoutes(RunnableLambda.from((x: { q: string }) => ({ answer: `agents: ${x.q}` })), { path: 'agents' });
        r.addRoutes(
          RunnableLambda.from((_x: unknown, config) => config?.configurable ?? null),
          { path: 'agents/support/config' },
        );
      },
    });
    api = `${gw.url}/api/v1`;
  });
  afterAll(() => gw?.close());

  it('serves each runnable at its full path, the longest match winning', async () => {
    expect((await postJson(`${api}/agents/support/invoke`, { input: { q: 'hi' } })).body.output).toEqual({ answer: 'support: hi' });
    expect((await postJson(`${api}/agents/invoke`, { input: { q: 'hi' } })).body.output).toEqual({ answer: 'agents: hi' });
    expect((await postJson(`${api}/echo/invoke`, { input: 'x' })).body.output).toBe('x');
  });

  it('uses the path with its slashes as the run name, as LangServe does', async () => {
    const res = await fetch(`${api}/agents/support/stream_events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { q: 'hi' } }),
    });
    const text = await res.text();
    expect(text).toContain('"name":"/agents/support"');
  });

  it('works through LangChain\'s RemoteRunnable, with a config hash too', async () => {
    const remote = new RemoteRunnable({ url: `${api}/agents/support` });
    expect(await remote.invoke({ q: 'there' })).toEqual({ answer: 'support: there' });
    const chunks: unknown[] = [];
    for await (const c of await remote.stream({ q: 's' })) chunks.push(c);
    expect(chunks).toEqual([{ answer: 'support: s' }]);
    const hash = encodeConfigHash({ configurable: { tenant: 'acme' } });
    const hashed = new RemoteRunnable({ url: `${api}/agents/support/config/c/${hash}` });
    expect(await hashed.invoke({})).toEqual({ tenant: 'acme' });
  });

  it('keeps probes at the root and serves nothing outside the prefix', async () => {
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    const outside = await postJson(`${gw.url}/echo/invoke`, { input: 'x' });
    expect(outside.status).toBe(404);
    expect(outside.body.detail).toBe('Nothing is served outside /api/v1/');
    const index = await (await fetch(`${api}/`)).json();
    expect(index.runnables).toEqual(['echo', 'chat', 'agents/support', 'agents', 'agents/support/config']);
  });

  it('points the playground and the OpenAPI document at the prefixed paths', async () => {
    const page = await (await fetch(`${api}/agents/support/playground`)).text();
    expect(page).toContain('/api/v1/agents/support');
    const doc = await (await fetch(`${api}/openapi.json`)).json();
    expect(doc.servers).toEqual([{ url: '/api/v1' }]);
    expect(Object.keys(doc.paths)).toContain('/agents/support/invoke');
    expect(Object.keys(doc.components.schemas)).toContain('agents.support.Input');
  });

  it('refuses a BASE_PATH no request could match, naming the variable', () => {
    expect(() => parseConfig(GatewayConfigSchema, { BASE_PATH: '/api v1' })).toThrow(/BASE_PATH/);
  });
});
