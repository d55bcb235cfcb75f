import type { Client } from '@langchain/langgraph-sdk';
import { eventually } from '@runnel/testing';
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

  it('runnel_agent_queue_depth counts the runs waiting behind a busy replica, then falls back to 0', async () => {
    const { client } = gw;
    const depth = async () => {
      const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
      return Number(text.split('\n').find((l) => l.startsWith('runnel_agent_queue_depth{'))?.split(' ').pop() ?? NaN);
    };
    expect(await depth()).toBe(0);
    const threads = await Promise.all([1, 2, 3, 4].map(() => client.threads.create()));
    // The first holds the replica's one slot for ~600 ms; the three after it (other threads: each its own queue entry) wait.
    const holder = await client.runs.create(threads[0].thread_id, 'slow', { input: { total: 2, delay: 300 } });
    await eventually('the holder running', async () => (await client.runs.get(threads[0].thread_id, holder.run_id)).status === 'running', 5_000, 25);
    const queued = await Promise.all(threads.slice(1).map((t) => client.runs.create(t.thread_id, 'slow', { input: { total: 1, delay: 10 } })));
    expect(await depth()).toBe(3);
    await Promise.all([client.runs.join(threads[0].thread_id, holder.run_id), ...queued.map((r, i) => client.runs.join(threads[i + 1].thread_id, r.run_id))]);
    expect(await depth()).toBe(0);
  }, 15_000);

  it("applies the gateway's MAX_INPUT_DEPTH to agent request bodies", async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10; i++) deep = { x: deep };
    const res = await fetch(`${gw.url}/runs/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ assistant_id: 'slow', input: deep }) });
    expect(res.status).toBe(422);
    expect((await res.json()).detail).toMatch(/depth/i);
  });
});
