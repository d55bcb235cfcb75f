import { Client } from '@langchain/langgraph-sdk';
import { connect } from 'node:net';
import { eventually, PostgresServer, RedisServer } from '@runnel/testing';
import { loadFixture } from '../../src/agents/execution/fixtures/load-fixture';
import { startTestGateway, type TestGateway } from '../gateway-harness';

/** Resolves once nothing accepts connections on the port (the killed server is really gone). */
const refused = (port: number) =>
  eventually(`port ${port} closed`, () => new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  }), 10_000, 50);

const twoNode = loadFixture<{ graph: object }>('two-node.mjs').graph;

/**
 * The agent API when what it stands on goes away: a clear 503 with Retry-After within seconds,
 * never a hang or a crash; the runnable routes keep serving; it recovers when the server is back.
 */
describe('agent API outages', () => {
  let redis: RedisServer;
  let postgres: PostgresServer;
  let gw: TestGateway;
  let client: Client;

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
    gw = await startTestGateway(
      { POSTGRES_URI: await postgres.createDatabase('agent_outages'), GATEWAY_REDIS_URL: redis.url, AGENT_REDIS_PREFIX: 'outage' },
      { register: (r) => r.addGraph(twoNode, { graphId: 'two' }) },
    );
    client = new Client({ apiUrl: gw.url, callerOptions: { maxRetries: 0 } });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await Promise.all([redis?.stop(), postgres?.stop()]);
  });

  const echo = async () => (await fetch(`${gw.url}/echo/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"x"}' })).status;

  it('Redis down: creating a run is a 503 within seconds; thread reads and runnables keep working; back when Redis is', async () => {
    const thread = await client.threads.create();
    await redis.kill();
    await refused(redis.port);
    const t0 = Date.now();
    const res = await fetch(`${gw.url}/threads/${thread.thread_id}/runs/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ assistant_id: 'two', input: { count: 1 } }) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect((await res.json()).detail).toMatch(/Redis is unavailable/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((await client.threads.get(thread.thread_id)).thread_id).toBe(thread.thread_id);
    expect(await echo()).toBe(200);
    redis = await RedisServer.start({ dir: redis.dir, port: redis.port });
    const other = await client.threads.create();
    // Back once the gateway's Redis clients have reconnected (by time, not by attempts: on a loaded
    // machine a reconnect and the worker's next poll can take several seconds).
    const result = await eventually('a run to complete after Redis is back', () => client.runs.wait(other.thread_id, 'two', { input: { count: 1 } }), 30_000, 200);
    expect(result).toEqual({ count: 4, trace: ['a', 'b'] });
  }, 60_000);

  it('PostgreSQL down: agent routes are a 503 within seconds; runnables keep working', async () => {
    await postgres.kill();
    await refused(postgres.port);
    const t0 = Date.now();
    const res = await fetch(`${gw.url}/threads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(503);
    expect((await res.json()).detail).toMatch(/PostgreSQL is unavailable/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await echo()).toBe(200);
  }, 30_000);
});
