import { randomUUID } from 'node:crypto';
import type { Client } from '@langchain/langgraph-sdk';
import { Pool } from 'pg';
import { eventually } from '@runnel/testing';
import { loadFixture } from '../../src/agents/execution/fixtures/load-fixture';
import { CronRepository } from '../../src/agents/storage/cron-repository';
import { RunRepository } from '../../src/agents/storage/run-repository';
import type { TestGateway } from '../gateway-harness';
import { AgentBackends } from './agent-harness';

const twoNode = loadFixture<{ graph: object }>('two-node.mjs').graph;

type Gateway = TestGateway & { client: Client };

let backends: AgentBackends;
let a: Gateway;
let b: Gateway;
let client: Client;
let pool: Pool;
let crons: CronRepository;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls `probe` every 25 ms (libs/testing's eventually) until it gives a truthy value. */
const until = <T>(probe: () => Promise<T> | T, what: string, timeoutMs = 10_000) => eventually(what, probe as () => Promise<NonNullable<T>>, timeoutMs, 25);

/** Once a year: the only ticks in a test are the ones it makes due (next_run_date in the past). */
const YEARLY = '0 0 1 1 *';
const past = () => new Date(Date.now() - 1_000);

/** Makes every given cron due at once, in one statement (both replicas see them due together). */
async function makeDue(cronIds: string[]): Promise<void> {
  await pool.query(`UPDATE runnel_agent_crons SET next_run_date = now() - interval '1 second' WHERE cron_id = ANY($1::text[])`, [cronIds]);
}

const threadsOf = (cronId: string) => client.threads.search({ metadata: { cron_id: cronId }, limit: 100 });

beforeAll(async () => {
  backends = await AgentBackends.start();
  // Two replicas of one deployment: the same PostgreSQL, Redis and prefix; both schedulers look every 50 ms.
  const env = { AGENT_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`, AGENT_CRON_INTERVAL: '0.05' };
  a = await backends.gateway((r) => r.addGraph(twoNode, { graphId: 'two' }), env);
  b = await backends.gateway((r) => r.addGraph(twoNode, { graphId: 'two' }), env);
  client = a.client;
  pool = new Pool({ connectionString: backends.postgresUri, max: 2 });
  pool.on('error', () => undefined);
  crons = new CronRepository(pool);
}, 60_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  await pool?.end();
  await backends?.stop();
});

describe('crons through the SDK Client', () => {
  it('creates, searches, counts, updates and deletes crons in the SDK Cron shape', async () => {
    const info = await (await fetch(`${a.url}/info`)).json();
    expect(info.flags.crons).toBe(true);
    const marker = randomUUID();
    const created = await client.crons.create('two', { schedule: '* * * * *', input: { count: 1 }, metadata: { marker } });
    expect(created).toEqual({
      cron_id: expect.any(String),
      assistant_id: expect.any(String),
      thread_id: null,
      on_run_completed: 'delete',
      end_time: null,
      schedule: '* * * * *',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      payload: expect.objectContaining({ input: { count: 1 }, metadata: { marker } }),
      user_id: null,
      next_run_date: expect.any(String),
      metadata: { marker },
      enabled: true,
    });
    const next = new Date(created.next_run_date!);
    expect(next.getUTCSeconds()).toBe(0);
    expect(next.getTime()).toBeGreaterThan(Date.now() - 1_000);
    expect(next.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);

    const thread = await client.threads.create();
    const forThread = await client.crons.createForThread(thread.thread_id, 'two', { schedule: YEARLY, input: { count: 2 } });
    expect(forThread.thread_id).toBe(thread.thread_id);
    expect(forThread.next_run_date).toMatch(/-01-01T00:00:00.000Z$/);

    expect((await client.crons.search({ threadId: thread.thread_id })).map((c) => c.cron_id)).toEqual([forThread.cron_id]);
    const all = await client.crons.search({ assistantId: created.assistant_id, limit: 100, sortBy: 'created_at', sortOrder: 'asc' });
    expect(all.map((c) => c.cron_id)).toEqual(expect.arrayContaining([created.cron_id, forThread.cron_id]));
    const picked = await client.crons.search({ threadId: thread.thread_id, select: ['cron_id', 'schedule'] });
    expect(picked).toEqual([{ cron_id: forThread.cron_id, schedule: YEARLY }]);
    expect(await client.crons.count({ threadId: thread.thread_id })).toBe(1);

    const updated = await client.crons.update(forThread.cron_id, { schedule: '*/5 * * * *', enabled: false, input: { count: 3 } });
    expect(updated).toMatchObject({ schedule: '*/5 * * * *', enabled: false, payload: expect.objectContaining({ input: { count: 3 } }) });
    expect(new Date(updated.next_run_date!).getUTCMinutes() % 5).toBe(0);
    expect((await client.crons.search({ threadId: thread.thread_id, enabled: true })).length).toBe(0);
    expect((await client.crons.search({ threadId: thread.thread_id, enabled: false })).length).toBe(1);

    await client.crons.delete(forThread.cron_id);
    await client.crons.delete(created.cron_id);
    expect(await client.crons.count({ threadId: thread.thread_id })).toBe(0);
  });

  it('answers 422 naming schedule for a bad schedule, 404 for an unknown thread, assistant or cron', async () => {
    const post = (path: string, body: unknown) => fetch(`${a.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const schedule of ['not a cron', '61 * * * *', '* * * *', '* * * * * *']) {
      const res = await post('/runs/crons', { assistant_id: 'two', schedule });
      expect(res.status).toBe(422);
      expect((await res.json()).detail).toMatch(/^schedule: /);
    }
    expect((await post(`/threads/${randomUUID()}/runs/crons`, { assistant_id: 'two', schedule: YEARLY })).status).toBe(404);
    expect((await post('/runs/crons', { assistant_id: randomUUID(), schedule: YEARLY })).status).toBe(404);
    expect((await post('/runs/crons', { assistant_id: 'two', schedule: YEARLY, webhook: 'ftp://example.com/x' })).status).toBe(422);
    expect((await fetch(`${a.url}/runs/crons/${randomUUID()}`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${a.url}/runs/crons/${randomUUID()}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
  });

  it('fires exactly one run per due tick with two replicas looking at once', async () => {
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) => client.crons.create('two', { schedule: YEARLY, input: { count: i }, onRunCompleted: 'keep' })),
    );
    const ids = created.map((c) => c.cron_id);
    for (let round = 1; round <= 3; round++) {
      await makeDue(ids);
      await until(async () => (await Promise.all(ids.map(async (id) => (await threadsOf(id)).length >= round))).every(Boolean), `round ${round} of runs`);
      // Both replicas keep looking: nothing more comes of these ticks.
      await sleep(400);
      for (const id of ids) expect((await threadsOf(id)).length).toBe(round);
    }
    // Each run went through: a stateless thread kept ('keep'), with the run's values.
    const threads = await threadsOf(ids[3]);
    await until(async () => (await Promise.all(threads.map(async (t) => (await client.threads.get(t.thread_id)).status === 'idle'))).every(Boolean), 'runs to finish');
    expect((await client.threads.get(threads[0].thread_id)).values).toEqual({ count: 8, trace: ['a', 'b'] });
    const runs = await client.runs.list(threads[0].thread_id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'success', metadata: expect.objectContaining({ cron_id: ids[3] }) });
    // The crons advanced to their next tick (next year), by the database's clock.
    for (const c of await client.crons.search({ assistantId: created[0].assistant_id, limit: 100 })) {
      if (ids.includes(c.cron_id)) expect(new Date(c.next_run_date!).getTime()).toBeGreaterThan(Date.now());
    }
    // Both replicas fired some of them (each took what the other held locked).
    const fired = (gw: Gateway) => gw.logs.filter((l) => l.msg === 'cron fired' && ids.includes(String(l.cronId))).length;
    expect(fired(a) + fired(b)).toBe(36);
    for (const id of ids) await client.crons.delete(id);
  });

  it('fires a tick whose run a dead replica created (but neither queued nor advanced the cron) by queueing that run, not a second one', async () => {
    const cron = await client.crons.create('two', { schedule: YEARLY, input: { count: 1 }, onRunCompleted: 'keep' });
    const tick = new Date(Date.now() - 5_000);
    // What a replica that died right after committing the tick's run leaves behind: the run (pending,
    // never queued) under the tick's key, and the cron still due at that tick.
    const { assistant_id, graph_id } = await client.assistants.get(cron.assistant_id);
    const { run } = await new RunRepository(pool).create(
      { assistant: { assistant_id, graph_id, config: {}, context: {}, metadata: {} }, kwargs: { input: { count: 5 }, stream_mode: ['values'], config: {} }, metadata: { cron_id: cron.cron_id } },
      { idempotencyKey: `cron:${cron.cron_id}:${tick.toISOString()}` },
    );
    await crons.setNextRunDate(cron.cron_id, tick);
    await until(async () => (await client.runs.get(run.thread_id, run.run_id)).status === 'success', 'the orphaned run to be queued and run');
    await sleep(300);
    const threads = await threadsOf(cron.cron_id);
    expect(threads.map((t) => t.thread_id)).toEqual([run.thread_id]);
    expect((await client.threads.get(run.thread_id)).values).toEqual({ count: 12, trace: ['a', 'b'] });
    expect(new Date((await crons.get(cron.cron_id)).next_run_date!).getTime()).toBeGreaterThan(Date.now());
    expect([...a.logs, ...b.logs].some((l) => l.msg === 'cron tick had its run already; queued it again' && l.runId === run.run_id)).toBe(true);
    await client.crons.delete(cron.cron_id);
  });

  it("runs a thread cron's runs on its thread (multitask enqueue), and deletes a stateless run's thread by default", async () => {
    const thread = await client.threads.create();
    const cron = await client.crons.createForThread(thread.thread_id, 'two', { schedule: YEARLY, input: { count: 1 } });
    await makeDue([cron.cron_id]);
    const [run] = await until(async () => {
      const runs = await client.runs.list(thread.thread_id);
      return runs.length === 1 && runs[0].status === 'success' ? runs : undefined;
    }, 'the thread cron run');
    expect(run.multitask_strategy).toBe('enqueue');
    expect(run.metadata).toMatchObject({ cron_id: cron.cron_id });
    expect((await client.threads.get(thread.thread_id)).values).toEqual({ count: 4, trace: ['a', 'b'] });
    // A second tick continues the same thread.
    await makeDue([cron.cron_id]);
    await until(async () => (await client.runs.list(thread.thread_id)).filter((r) => r.status === 'success').length === 2, 'the second run');
    expect((await client.threads.get(thread.thread_id)).values).toEqual({ count: 4, trace: ['a', 'b', 'a', 'b'] });
    await client.crons.delete(cron.cron_id);

    const stateless = await client.crons.create('two', { schedule: YEARLY, input: { count: 1 } });
    await makeDue([stateless.cron_id]);
    const log = await until(async () => [...a.logs, ...b.logs].find((l) => l.msg === 'cron fired' && l.cronId === stateless.cron_id), 'the stateless cron to fire');
    await until(async () => [...a.logs, ...b.logs].some((l) => l.msg === 'run finished' && l.runId === log.runId), 'its run to finish');
    await until(async () => (await pool.query('SELECT 1 FROM runnel_agent_threads WHERE thread_id = $1', [log.threadId])).rowCount === 0, 'its thread to be deleted');
    await client.crons.delete(stateless.cron_id);
  });

  it('does not fire a deleted, disabled or ended cron', async () => {
    const thread = await client.threads.create();
    const deleted = await client.crons.createForThread(thread.thread_id, 'two', { schedule: YEARLY, input: { count: 1 } });
    const disabled = await client.crons.createForThread(thread.thread_id, 'two', { schedule: YEARLY, input: { count: 1 }, enabled: false });
    const ended = await client.crons.createForThread(thread.thread_id, 'two', { schedule: YEARLY, input: { count: 1 } });
    await client.crons.update(ended.cron_id, { endTime: past().toISOString() });
    await client.crons.delete(deleted.cron_id);
    await makeDue([deleted.cron_id, disabled.cron_id, ended.cron_id]);
    await expect(crons.setNextRunDate(deleted.cron_id, past())).rejects.toThrow(/not found/);
    await sleep(500);
    expect(await client.runs.list(thread.thread_id)).toEqual([]);
    // Still due, but not fired: disabled, and past its end.
    const due = await pool.query('SELECT cron_id FROM runnel_agent_crons WHERE cron_id = ANY($1::text[]) AND next_run_date <= now()', [[disabled.cron_id, ended.cron_id]]);
    expect(due.rowCount).toBe(2);
    // Enabled again, a cron starts from now: the tick it missed is not fired.
    const enabled = await client.crons.update(disabled.cron_id, { enabled: true });
    expect(new Date(enabled.next_run_date!).getTime()).toBeGreaterThan(Date.now());
    await sleep(300);
    expect(await client.runs.list(thread.thread_id)).toEqual([]);
  });

  it('deletes a thread cron whose thread is gone at its next tick', async () => {
    const thread = await client.threads.create();
    const cron = await client.crons.createForThread(thread.thread_id, 'two', { schedule: YEARLY, input: { count: 1 } });
    await client.threads.delete(thread.thread_id);
    await makeDue([cron.cron_id]);
    await until(async () => (await pool.query('SELECT 1 FROM runnel_agent_crons WHERE cron_id = $1', [cron.cron_id])).rowCount === 0, 'the cron to be deleted');
  });
});
