import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { loadFixture } from '../../src/agents/execution/fixtures/load-fixture';
import type { TestGateway } from '../gateway-harness';
import { AgentBackends } from './agent-harness';

const twoNode = loadFixture<{ graph: object }>('two-node.mjs').graph;
const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');
const AGENT_KEY = 'agent-key-0123456789abcdef';
const OTHER_KEY = 'other-key-0123456789abcdef';
const SLOW_KEY = 'slow-key-0123456789abcdefgh';

/** The agent API behind the gateway's callers: the same API keys, scopes and per-caller limits as the runnable routes. */
describe('agent API callers', () => {
  let backends: AgentBackends;
  let gw: TestGateway & { client: Client };

  beforeAll(async () => {
    backends = await AgentBackends.start();
    const file = join(mkdtempSync(join(tmpdir(), 'runnel-agent-keys-')), 'keys.json');
    writeFileSync(
      file,
      JSON.stringify({
        keys: [
          { name: 'agent-app', sha256: sha256Hex(AGENT_KEY), scopes: ['langgraph:run'] },
          { name: 'throttled', sha256: sha256Hex(SLOW_KEY), scopes: ['langgraph:*'], requests_per_minute: 2 },
          { name: 'echo-only', sha256: sha256Hex(OTHER_KEY), scopes: ['echo:invoke'] },
        ],
      }),
    );
    gw = await backends.gateway((r) => r.addGraph(twoNode, { graphId: 'two' }), { GATEWAY_API_KEYS_FILE: file });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await backends?.stop();
  });

  it('refuses a caller without credentials (401) and one whose scopes do not name langgraph (403); /ok stays open', async () => {
    await expect(new Client({ apiUrl: gw.url }).threads.create()).rejects.toMatchObject({ status: 401 });
    await expect(new Client({ apiUrl: gw.url, apiKey: OTHER_KEY }).threads.create()).rejects.toMatchObject({ status: 403 });
    expect((await fetch(`${gw.url}/ok`)).status).toBe(200);
    expect((await fetch(`${gw.url}/info`)).status).toBe(401);
  });

  it('serves a caller with the scope, and its graph sees who called', async () => {
    const client = new Client({ apiUrl: gw.url, apiKey: AGENT_KEY });
    const thread = await client.threads.create();
    expect(await client.runs.wait(thread.thread_id, 'two', { input: { count: 1 } })).toEqual({ count: 4, trace: ['a', 'b'] });
    // The SDK's Run type leaves out kwargs; the API sends them.
    const [run] = (await client.runs.list(thread.thread_id)) as unknown as { kwargs: { config: unknown } }[];
    expect(run.kwargs.config).toMatchObject({ configurable: { langgraph_auth_user_id: 'agent-app', user_id: 'agent-app' } });
    // The credential itself never reaches the run's config.
    expect(JSON.stringify(run.kwargs)).not.toContain(AGENT_KEY);
  });

  it("applies the caller's rate limit: past it, 429 with Retry-After", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/threads`, { method: 'POST', headers: { 'x-api-key': SLOW_KEY, 'content-type': 'application/json' }, body: '{}' });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
