import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { Pool } from 'pg';
import { eventually, freePort, PostgresServer, RedisServer, ServiceProcess } from '@runnel/testing';

/**
 * Two gateway replicas (the built bundle, as deployed) on one Redis and one PostgreSQL, serving
 * fixtures/langgraph.json: runs executing on one are followed and cancelled from the other, a replica
 * killed -9 mid-run loses the run to the other, which continues it from its last checkpoint, a run
 * that ends inside the SIGTERM drain window finishes where it runs, and a SIGTERM past the drain
 * window hands a run back to the queue.
 *
 * Where a run executes is pinned, not left to chance: every replica executes one run at a time
 * (AGENT_MAX_CONCURRENT_RUNS 1), so with the other replicas' slots taken by blocker runs a new run
 * can only execute on the one left free. And it is asserted: the run's row names its worker
 * (`worker_id`, host:pid, while it runs), and only that replica logs `run started` for it.
 */

interface Replica {
  process: ServiceProcess;
  /** The worker id it records on the runs it executes (run-worker's host:pid). */
  id: string;
  url: string;
  metricsUrl: string;
  client: Client;
}

let redis: RedisServer;
let postgres: PostgresServer;
let postgresUri: string;
let db: Pool;
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
    // One run at a time: a replica busy with a blocker run takes no other, which pins placement.
    AGENT_MAX_CONCURRENT_RUNS: '1',
    // A short drain window, so the SIGTERM case hands its run back whichever replica holds it.
    SHUTDOWN_TIMEOUT: '2',
    LOG_LEVEL: 'info',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually('replica ready', async () => process.running && (await fetch(`http://127.0.0.1:${metricsPort}/ready`)).ok, 30_000, 200).catch((err) => {
    throw new Error(`${err.message}\n${process.stderr.slice(-2000)}\n${process.stdout.slice(-2000)}`);
  });
  const replica = { process, id: `${hostname()}:${process.child.pid}`, url, metricsUrl: `http://127.0.0.1:${metricsPort}`, client: new Client({ apiUrl: url }) };
  replicas.push(replica);
  return replica;
}

/** How many runs a replica is executing now (its /ready `agents` detail). */
async function runningOn(r: Replica): Promise<number> {
  const ready = await (await fetch(`${r.metricsUrl}/ready`)).json();
  return ready.checks?.agents?.detail?.running ?? 0;
}

/** The replica executing a run now, by its row's `worker_id` (set while the run is `running`). */
async function executorOf(runId: string): Promise<Replica> {
  const workerId = await eventually(`run ${runId} claimed by a worker`, async () => {
    const { rows } = await db.query<{ status: string; worker_id: string | null }>('SELECT status, worker_id FROM runnel_agent_runs WHERE run_id = $1', [runId]);
    return rows[0]?.status === 'running' ? (rows[0].worker_id ?? undefined) : undefined;
  }, 10_000, 20);
  const replica = replicas.find((r) => r.id === workerId);
  if (!replica) throw new Error(`run ${runId} is held by ${workerId}, none of the replicas (${replicas.map((r) => r.id).join(', ')})`);
  return replica;
}

/** The ids of the replicas whose log says they started executing the run (`run started`). */
function startedOn(runId: string): string[] {
  return replicas.filter((r) => logged(r, runId, 'run started').length > 0).map((r) => r.id);
}

/** A replica's JSON log lines, in order. */
function logLines(r: Replica): Record<string, unknown>[] {
  return r.process.stdout.split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

function logged(r: Replica, runId: string, msg: string): Record<string, unknown>[] {
  return logLines(r).filter((l) => l.msg === msg && l.runId === runId);
}

/**
 * A run that takes the one worker slot of whichever replica claims it (steps of 500 ms, thousands
 * of them) until released (cancelled), so the next run goes to a replica with a free slot.
 */
async function occupySlot(via: Replica): Promise<{ on: Replica; release: () => Promise<void> }> {
  const thread = await via.client.threads.create();
  const run = await via.client.runs.create(thread.thread_id, 'slow', { input: { steps: 10_000 }, config: { configurable: { step_ms: 500 } } });
  const on = await executorOf(run.run_id);
  return {
    on,
    release: async () => {
      const r = replicas.find((x) => x.process.running)!;
      await r.client.runs.cancel(thread.thread_id, run.run_id, true);
      await eventually('blocker ended', async () => (await r.client.runs.get(thread.thread_id, run.run_id)).status === 'error', 10_000, 50);
    },
  };
}

function otherOf(r: Replica, among: Replica[]): Replica {
  const others = among.filter((x) => x !== r);
  if (others.length !== 1) throw new Error(`expected one other replica, got ${others.length}`);
  return others[0];
}

beforeAll(async () => {
  [redis, postgres] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
  postgresUri = await postgres.createDatabase('agent_replicas');
  db = new Pool({ connectionString: postgresUri, max: 2 });
  db.on('error', () => undefined);
}, 60_000);
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.process.stop('SIGTERM', 5_000)));
  await db?.end();
  await Promise.all([redis?.stop(), postgres?.stop()]);
});

describe('two gateway replicas', () => {
  let a: Replica;
  let b: Replica;
  beforeAll(async () => {
    [a, b] = await Promise.all([startReplica(), startReplica()]);
  }, 60_000);

  it('a run executing on one replica is created, streamed (resumable, by event id) and joined from the other', async () => {
    // The client's replica (`near`) has its one slot taken, so the run can only execute on `far`.
    const blocker = await occupySlot(a);
    const near = blocker.on;
    const far = otherOf(near, [a, b]);
    try {
      const thread = await near.client.threads.create();
      const run = await near.client.runs.create(thread.thread_id, 'slow', { input: { steps: 4 }, streamMode: ['updates'], streamResumable: true });
      // Placement, asserted: the run's row names far's worker, not near's.
      expect((await executorOf(run.run_id)).id).toBe(far.id);
      expect(far.id).not.toBe(near.id);
      const seen: { event: string; data: unknown; id?: string }[] = [];
      for await (const part of near.client.runs.joinStream(thread.thread_id, run.run_id)) {
        seen.push(part as never);
        if (seen.filter((e) => e.event === 'updates').length === 2) break;
      }
      expect(seen[0].event).toBe('metadata');
      const lastId = (seen.at(-1) as { id?: string }).id;
      expect(lastId).toBeTruthy();
      // Carry on from the last event seen, on the other replica: the rest, no repeats.
      const rest: { event: string; data: unknown }[] = [];
      for await (const part of far.client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: lastId })) rest.push(part);
      const steps = [...seen, ...rest].filter((e) => e.event === 'updates' && 'step' in (e.data as object)).map((e) => (e.data as { step: { trace: number[] } }).step.trace[0]);
      expect(steps).toEqual([1, 2, 3, 4]);
      expect(await near.client.runs.join(thread.thread_id, run.run_id)).toEqual({ steps: 4, trace: [1, 2, 3, 4], begins: 1 });
      // And by the logs: far executed it, once; near never did.
      expect(startedOn(run.run_id)).toEqual([far.id]);
      expect(logged(far, run.run_id, 'run finished').map((l) => l.status)).toEqual(['success']);
    } finally {
      await blocker.release();
    }
  }, 30_000);

  it('a run is cancelled from a replica that does not execute it, within its step; the state is as of the last finished step', async () => {
    // As above: the canceller's slot is taken, so the run executes on the other replica and the
    // cancel reaches it through Redis (pub/sub), not in-process.
    const blocker = await occupySlot(b);
    const canceller = blocker.on;
    const executor = otherOf(canceller, [a, b]);
    try {
      const thread = await canceller.client.threads.create();
      const run = await canceller.client.runs.create(thread.thread_id, 'slow', { input: { steps: 20 } });
      expect((await executorOf(run.run_id)).id).toBe(executor.id);
      expect(executor.id).not.toBe(canceller.id);
      await eventually('two steps done', async () => ((await canceller.client.threads.getState(thread.thread_id)).values as { trace?: number[] }).trace?.length === 2, 10_000, 50);
      const t0 = Date.now();
      await canceller.client.runs.cancel(thread.thread_id, run.run_id, true);
      // Well under the 18 × 250 ms left to run (with room for a loaded machine).
      expect(Date.now() - t0).toBeLessThan(3_000);
      const after = await executor.client.runs.get(thread.thread_id, run.run_id);
      expect(after.status).toBe('error');
      const trace = ((await executor.client.threads.getState(thread.thread_id)).values as { trace: number[] }).trace;
      expect(trace.length).toBeGreaterThanOrEqual(2);
      expect(trace.length).toBeLessThan(20);
      expect(trace).toEqual(trace.map((_, i) => i + 1));
      // The executor stopped it (its log has the run ending `error`); the canceller never ran it.
      expect(startedOn(run.run_id)).toEqual([executor.id]);
      expect(logged(executor, run.run_id, 'run finished').map((l) => l.status)).toEqual(['error']);
    } finally {
      await blocker.release();
    }
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
    // Two replicas go on: the one that left is replaced by `leaving` if it was a or b.
    if (holder === a) a = leaving;
    else if (holder === b) b = leaving;
  }, 60_000);

  it('SIGTERM: a run that ends inside the drain window finishes on its replica (attempt 1, not handed back), then the process exits 0', async () => {
    // a and b each get a blocker run first, so the run can only execute on `leaving` (a drain
    // window of 5 s less 1 s: 4 s), and a hand-back could not be picked up by a or b before the
    // checks below (their slots are taken).
    const blockers: Awaited<ReturnType<typeof occupySlot>>[] = [];
    try {
      for (let i = 0; i < 2; i++) blockers.push(await occupySlot(a));
      expect(new Set(blockers.map((x) => x.on)).size).toBe(2);
      const leaving = await startReplica({ SHUTDOWN_TIMEOUT: '5' });
      const thread = await leaving.client.threads.create();
      // 4 steps of 250 ms: about 1 s.
      const run = await leaving.client.runs.create(thread.thread_id, 'slow', { input: { steps: 4 }, streamResumable: true });
      expect((await executorOf(run.run_id)).id).toBe(leaving.id);
      await eventually('one step done', async () => (((await a.client.threads.getState(thread.thread_id)).values as { trace?: number[] }).trace?.length ?? 0) >= 1, 10_000, 20);
      const t0 = Date.now();
      const code = await leaving.process.stop('SIGTERM', 15_000);
      const exitedAfter = Date.now() - t0;
      expect(code).toBe(0);
      // It waited for the run (≈ 750 ms of steps left) and no longer: well inside the 4 s window.
      expect(exitedAfter).toBeLessThan(4_000);
      // By the time the process was gone the run was done: success, started once, on `leaving`.
      const { rows } = await db.query<{ status: string; attempt: number }>('SELECT status, attempt FROM runnel_agent_runs WHERE run_id = $1', [run.run_id]);
      expect(rows[0]).toEqual({ status: 'success', attempt: 1 });
      expect(logged(leaving, run.run_id, 'run finished').map((l) => l.status)).toEqual(['success']);
      expect(logged(leaving, run.run_id, 'run handed back to the queue (shutdown)')).toEqual([]);
      // In this order in its log: the SIGTERM, the run's end, the exit (it finished inside the drain).
      const lines = logLines(leaving);
      const order = [
        lines.findIndex((l) => l.msg === 'shutdown requested' && l.signal === 'SIGTERM'),
        lines.findIndex((l) => l.msg === 'run finished' && l.runId === run.run_id),
        lines.findIndex((l) => l.msg === 'shutdown complete' && l.code === 0),
      ];
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((x, y) => x - y)).toEqual(order);
      expect(startedOn(run.run_id)).toEqual([leaving.id]);
      expect(await a.client.runs.join(thread.thread_id, run.run_id)).toEqual({ steps: 4, trace: [1, 2, 3, 4], begins: 1 });
      const events: { event: string; data: unknown }[] = [];
      for await (const part of b.client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: '0-0' })) events.push(part);
      expect(events.filter((e) => e.event === 'metadata').map((e) => (e.data as { attempt: number }).attempt)).toEqual([1]);
    } finally {
      for (const x of blockers) await x.release();
    }
  }, 60_000);
});
