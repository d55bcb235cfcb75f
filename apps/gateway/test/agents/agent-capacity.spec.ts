import type { Client } from '@langchain/langgraph-sdk';
import { loadFixture } from '../../src/agents/execution/fixtures/load-fixture';
import type { TestGateway } from '../gateway-harness';
import { AgentBackends } from './agent-harness';

const slow = loadFixture<{ graph: object }>('slow.mjs').graph;

/** AGENT_MAX_CONCURRENT_RUNS and the gateway's input bounds on the agent API. AGENT_MAX_CONCURRENT_RUNS: a replica executes at most that many runs at once; the rest wait queued. */
describe('runs per replica', () => {
  let backends: AgentBackends;
  let gw: TestGateway & { client: Client };

  beforeAll(async () => {
    backends = await AgentBackends.start();
    gw = await backends.gateway((r) => r.addGraph(slow, { graphId: 'slow' }), { AGENT_MAX_CONCURRENT_RUNS: '1', MAX_INPUT_DEPTH: '6' });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await backends?.stop();
  });

  it('with a limit of 1, runs on two threads execute one after the other', async () => {
    const { client } = gw;
    const [t1, t2] = await Promise.all([client.threads.create(), client.threads.create()]);
    const input = { total: 3, delay: 150 };
    const [r1, r2] = await Promise.all([client.runs.create(t1.thread_id, 'slow', { input }), client.runs.create(t2.thread_id, 'slow', { input })]);
    // While one runs, the other is still pending.
    let sawOneRunning = false;
    for (let i = 0; i < 60 && !sawOneRunning; i++) {
      const statuses = await Promise.all([client.runs.get(t1.thread_id, r1.run_id), client.runs.get(t2.thread_id, r2.run_id)]).then((rs) => rs.map((r) => r.status).sort());
      if (statuses.join() === 'pending,running') sawOneRunning = true;
      expect(statuses).not.toEqual(['running', 'running']);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(sawOneRunning).toBe(true);
    await Promise.all([client.runs.join(t1.thread_id, r1.run_id), client.runs.join(t2.thread_id, r2.run_id)]);
    const [a, b] = await Promise.all([client.runs.get(t1.thread_id, r1.run_id), client.runs.get(t2.thread_id, r2.run_id)]);
    expect([a.status, b.status]).toEqual(['success', 'success']);
  }, 30_000);

  it("applies the gateway's MAX_INPUT_DEPTH to agent request bodies", async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10; i++) deep = { x: deep };
    const res = await fetch(`${gw.url}/runs/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ assistant_id: 'slow', input: deep }) });
    expect(res.status).toBe(422);
    expect((await res.json()).detail).toMatch(/depth/i);
  });
});
