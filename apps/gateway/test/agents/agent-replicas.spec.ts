import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { eventually, freePort, PostgresServer, RedisServer, ServiceProcess } from '@runnel/testing';

/**
 * Two gateway replicas (the built bundle, as deployed) on one Redis and one PostgreSQL, serving
 * fixtures/langgraph.json: runs made on one are followed and cancelled from the other, a replica
 * killed -9 mid-run loses the run to the other, which continues it from its last checkpoint, and a
 * SIGTERM past the drain window hands a run back to the queue.
 */

interface Replica {
  process: ServiceProcess;
  url: string;
  metricsUrl: string;
  client: Client;
}

let redis: RedisServer;
let postgres: PostgresServer;
let postgresUri: string;
const prefix = `rep${randomUUID().slice(0, 8)}`;
const replicas: Replica[] = [];

async function startReplica(env: Record<string, string> = {}): Promise<Replica> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const process = new ServiceProcess('gateway', {
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    HOST: '127.0.0.1',
    POSTGRES_URI: postgresUri,
    GATEWAY_REDIS_URL: redis.url,
    AGENT_REDIS_PREFIX: prefix,
    LANGGRAPH_JSON: join(__dirname, 'fixtures/langgraph.json'),
    DISABLE_BUILTINS: 'true',
    AGENT_RUN_LOCK_TIMEOUT: '2',
    // A short drain window, so the SIGTERM case hands its run back whichever replica holds it.
    SHUTDOWN_TIMEOUT: '2',
    LOG_LEVEL: 'info',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually('replica ready', async () => process.running && (await fetch(`http://127.0.0.1:${metricsPort}/ready`)).ok, 30_000, 200).catch((err) => {
    throw new Error(`${err.message}\n${process.stderr.slice(-2000)}\n${process.stdout.slice(-2000)}`);
  });
  const replica = { process, url, metricsUrl: `http://127.0.0.1:${metricsPort}`, client: new Client({ apiUrl: url }) };
  replicas.push(replica);
  return replica;
}

/** How many runs a replica is executing now (its /ready `agents` detail). */
async function runningOn(r: Replica): Promise<number> {
  const ready = await (await fetch(`${r.metricsUrl}/ready`)).json();
  return ready.checks?.agents?.detail?.running ?? 0;
}

beforeAll(async () => {
  [redis, postgres] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
  postgresUri = await postgres.createDatabase('agent_replicas');
}, 60_000);
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.process.stop('SIGTERM', 5_000)));
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

describe('two gateway replicas', () => {
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    [a, b] = await Promise.all([startReplica(), startReplica()]);
  }, 60_000);

  it('a run created on one replica is streamed (resumable, by event id) and joined from the other', async () => {
    const thread = await a.client.threads.create();
    const run = await a.client.runs.create(thread.thread_id, 'slow', { input: { steps: 4 }, streamMode: ['updates'], streamResumable: true });
    const seen: { event: string; data: unknown; id?: string }[] = [];
    for await (const part of b.client.runs.joinStream(thread.thread_id, run.run_id)) {
      seen.push(part as never);
      if (seen.filter((e) => e.event === 'updates').length === 2) break;
    }
    expect(seen[0].event).toBe('metadata');
    const lastId = (seen.at(-1) as { id?: string }).id;
    expect(lastId).toBeTruthy();
    // Carry on from the last event seen, on the other replica: the rest, no repeats.
    const rest: { event: string; data: unknown }[] = [];
    for await (const part of a.client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: lastId })) rest.push(part);
    const steps = [...seen, ...rest].filter((e) => e.event === 'updates' && 'step' in (e.data as object)).map((e) => (e.data as { step: { trace: number[] } }).step.trace[0]);
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(await b.client.runs.join(thread.thread_id, run.run_id)).toEqual({ steps: 4, trace: [1, 2, 3, 4], begins: 1 });
  }, 30_000);

  it('a run is cancelled from the other replica within its step; the state is as of the last finished step', async () => {
    const thread = await a.client.threads.create();
    const run = await a.client.runs.create(thread.thread_id, 'slow', { input: { steps: 20 } });
    await eventually('two steps done', async () => ((await b.client.threads.getState(thread.thread_id)).values as { trace?: number[] }).trace?.length === 2, 10_000, 50);
    const t0 = Date.now();
    await b.client.runs.cancel(thread.thread_id, run.run_id, true);
    // Well under the 18 × 250 ms left to run (with room for a loaded machine).
    expect(Date.now() - t0).toBeLessThan(3_000);
    const after = await a.client.runs.get(thread.thread_id, run.run_id);
    expect(after.status).toBe('error');
    const trace = ((await a.client.threads.getState(thread.thread_id)).values as { trace: number[] }).trace;
    expect(trace.length).toBeGreaterThanOrEqual(2);
    expect(trace.length).toBeLessThan(20);
    expect(trace).toEqual(trace.map((_, i) => i + 1));
  }, 30_000);

  it('a replica killed -9 mid-run: the other takes the run over and continues it from its last checkpoint', async () => {
    const thread = await a.client.threads.create();
    const run = await a.client.runs.create(thread.thread_id, 'slow', { input: { steps: 8 }, streamResumable: true, streamMode: ['updates'] });
    const holder = await eventually('a replica running the run', async () => {
      for (const r of [a, b]) if ((await runningOn(r)) > 0) return r;
      return undefined;
    }, 10_000, 50);
    await eventually('three steps done', async () => (((await holder.client.threads.getState(thread.thread_id)).values as { trace?: number[] }).trace?.length ?? 0) >= 3, 10_000, 50);
    holder.process.child.kill('SIGKILL');
    await holder.process.exited;
    const survivor = holder === a ? b : a;
    const result = (await survivor.client.runs.join(thread.thread_id, run.run_id)) as { trace: number[]; begins: number };
    // Every step exactly once, and the run began once: it went on from the checkpoint the killed
    // replica wrote last, not from its input again.
    expect(result.trace).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(result.begins).toBe(1);
    expect((await survivor.client.runs.get(thread.thread_id, run.run_id)).status).toBe('success');
    const events: { event: string; data: unknown }[] = [];
    for await (const part of survivor.client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: '0-0' })) events.push(part);
    const attempts = events.filter((e) => e.event === 'metadata').map((e) => (e.data as { attempt: number }).attempt);
    expect(attempts).toEqual([1, 2]);
    // Replace the killed replica for the next test.
    const fresh = await startReplica();
    if (holder === a) a = fresh;
    else b = fresh;
  }, 60_000);

  it('SIGTERM: a run still going when the drain window ends goes back to the queue and another replica finishes it', async () => {
    const leaving = await startReplica();
    // Any replica may take the run: whichever holds it is the one stopped.
    const thread = await leaving.client.threads.create();
    const run = await leaving.client.runs.create(thread.thread_id, 'slow', { input: { steps: 12 }, config: { configurable: { step_ms: 400 } }, streamResumable: true });
    const holder = await eventually('a replica running the run', async () => {
      for (const r of [leaving, a, b]) if (r.process.running && (await runningOn(r)) > 0) return r;
      return undefined;
    }, 10_000, 50);
    const t0 = Date.now();
    const code = await holder.process.stop('SIGTERM', 15_000);
    if (process.env.DEBUG_REPLICAS) console.log(holder.process.stdout.split('\n').filter((l) => /run|drain|shut/i.test(l)).join('\n'));
    expect(code).toBe(0);
    // Drain window 1.6 s, then the hand-back; the attempts below show it was handed back.
    expect(Date.now() - t0).toBeLessThan(10_000);
    const survivor = [leaving, a, b].find((r) => r !== holder && r.process.running)!;
    const result = (await survivor.client.runs.join(thread.thread_id, run.run_id)) as { trace: number[]; begins: number };
    expect(result.trace).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(result.begins).toBe(1);
    const events: { event: string; data: unknown }[] = [];
    for await (const part of survivor.client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: '0-0' })) events.push(part);
    expect(events.filter((e) => e.event === 'metadata').map((e) => (e.data as { attempt: number }).attempt)).toEqual([1, 2]);
    if (holder === a) a = await startReplica();
    else if (holder === b) b = await startReplica();
  }, 60_000);
});
