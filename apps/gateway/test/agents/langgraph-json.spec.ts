import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { eventually, freePort, PostgresServer, RedisServer, ServiceProcess } from '@runnel/testing';

/** LANGGRAPH_JSON as `langgraph-cli` reads it, in the built gateway: module kinds, graph kinds, and bad set-ups; and a RUNNABLES_MODULE's addGraph. */
describe('LANGGRAPH_JSON', () => {
  let redis: RedisServer;
  let postgres: PostgresServer;
  let uri: string;
  beforeAll(async () => {
    [redis, postgres] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
    uri = await postgres.createDatabase('langgraph_json');
  }, 60_000);
  afterAll(async () => {
    await Promise.all([redis?.stop(), postgres?.stop()]);
  });

  const start = async (env: Record<string, string>) => {
    const port = await freePort();
    const svc = new ServiceProcess('gateway', { PORT: String(port), METRICS_PORT: '0', HOST: '127.0.0.1', DISABLE_BUILTINS: 'true', LOG_LEVEL: 'warn', ...env });
    return { svc, url: `http://127.0.0.1:${port}` };
  };

  it('serves a .ts module (type stripping), a CommonJS StateGraph and an ESM factory of the run config', async () => {
    const { svc, url } = await start({ POSTGRES_URI: uri, GATEWAY_REDIS_URL: redis.url, LANGGRAPH_JSON: join(__dirname, 'fixtures/kinds/langgraph.json') });
    try {
      await eventually('gateway up', async () => (await fetch(`${url}/ok`)).ok, 30_000, 100).catch((err) => {
        throw new Error(`${err.message}\n${svc.stderr}\n${svc.stdout}`);
      });
      const client = new Client({ apiUrl: url });
      expect((await client.assistants.search()).map((a) => a.graph_id).sort()).toEqual(['common', 'factory', 'typed']);
      expect(await client.runs.wait(null, 'typed', { input: { n: 1 } })).toEqual({ n: 2 });
      expect(await client.runs.wait(null, 'common', { input: { n: 3 } })).toEqual({ n: 6 });
      expect(await client.runs.wait(null, 'factory', { input: { n: 1 } })).toEqual({ n: 11 });
      expect(await client.runs.wait(null, 'factory', { input: { n: 1 }, config: { configurable: { step: 5 } } })).toEqual({ n: 6 });
    } finally {
      await svc.stop('SIGTERM', 5_000);
    }
  }, 60_000);

  it("serves a graph a RUNNABLES_MODULE registers with registry.addGraph(graph, { graphId })", async () => {
    // A database of its own: its assistants are this module's alone.
    const own = await postgres.createDatabase('runnables_module_graphs');
    const { svc, url } = await start({ POSTGRES_URI: own, GATEWAY_REDIS_URL: redis.url, RUNNABLES_MODULE: join(__dirname, 'fixtures/graph-runnables.mjs') });
    try {
      await eventually('gateway up', async () => (await fetch(`${url}/ok`)).ok, 30_000, 100).catch((err) => {
        throw new Error(`${err.message}\n${svc.stderr}\n${svc.stdout}`);
      });
      const client = new Client({ apiUrl: url });
      const assistants = await client.assistants.search();
      expect(assistants.map((a) => [a.graph_id, a.description])).toEqual([['tripler', 'registered by a RUNNABLES_MODULE']]);
      expect(await client.runs.wait(null, 'tripler', { input: { n: 2 } })).toEqual({ n: 6 });
      const thread = await client.threads.create();
      expect(await client.runs.wait(thread.thread_id, 'tripler', { input: { n: 1 }, config: { configurable: { factor: 2 } } })).toEqual({ n: 6 });
      expect((await client.threads.getState(thread.thread_id)).values).toEqual({ n: 6 });
    } finally {
      await svc.stop('SIGTERM', 5_000);
    }
  }, 60_000);

  it('exits 1 naming the problem: a missing export, graphs without POSTGRES_URI, POSTGRES_URI without GATEWAY_REDIS_URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-lgjson-'));
    writeFileSync(join(dir, 'g.mjs'), 'export const other = 1;\n');
    writeFileSync(join(dir, 'langgraph.json'), JSON.stringify({ graphs: { g: './g.mjs:graph' } }));
    const cases: [Record<string, string>, RegExp][] = [
      [{ POSTGRES_URI: uri, GATEWAY_REDIS_URL: redis.url, LANGGRAPH_JSON: join(dir, 'langgraph.json') }, /LANGGRAPH_JSON: graph "g": \.\/g\.mjs has no export "graph"/],
      [{ LANGGRAPH_JSON: join(__dirname, 'fixtures/kinds/langgraph.json') }, /POSTGRES_URI is required to serve LangGraph graphs/],
      [{ POSTGRES_URI: uri }, /GATEWAY_REDIS_URL is required with POSTGRES_URI/],
      [{ POSTGRES_URI: uri, GATEWAY_REDIS_URL: redis.url, LANGGRAPH_JSON: join(dir, 'missing.json') }, /LANGGRAPH_JSON: cannot read/],
    ];
    for (const [env, message] of cases) {
      const { svc } = await start(env);
      expect(await svc.exited).toBe(1);
      expect(svc.stderr + svc.stdout).toMatch(message);
    }
  }, 60_000);
});
