import { Client } from '@langchain/langgraph-sdk';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { eventually } from '@runnel/testing';
import { loadFixture } from '../../src/agents/execution/fixtures/load-fixture';
import type { TestGateway } from '../gateway-harness';
import { AgentBackends } from './agent-harness';

const twoNode = loadFixture<{ graph: object }>('two-node.mjs').graph;
const interrupting = loadFixture<{ graph: object }>('interrupting.mjs').graph;

// Spans go to memory: one per run execution is what the test looks for.
const spans = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));

let backends: AgentBackends;
let gw: TestGateway & { client: Client };
let client: Client;

beforeAll(async () => {
  backends = await AgentBackends.start();
  gw = await backends.gateway((r) => {
    r.addGraph(twoNode, { graphId: 'two' });
    r.addGraph(interrupting, { graphId: 'ask' });
  });
  client = gw.client;
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await backends?.stop();
});

describe('LangGraph Platform API through the official SDK Client', () => {
  it('answers /ok and /info', async () => {
    expect(await (await fetch(`${gw.url}/ok`)).json()).toEqual({ ok: true });
    const info = await (await fetch(`${gw.url}/info`)).json();
    expect(info.flags.assistants).toBe(true);
  });

  it('has one assistant per graph', async () => {
    const found = await client.assistants.search({ limit: 10 });
    expect(found.map((a) => a.graph_id).sort()).toEqual(['ask', 'two']);
    const a = await client.assistants.get(found[0].assistant_id);
    expect(a.metadata).toEqual({ created_by: 'system' });
  });

  it('runs.wait on a thread returns the final values, and the thread keeps the state and history', async () => {
    const thread = await client.threads.create();
    const result = await client.runs.wait(thread.thread_id, 'two', { input: { count: 1 } });
    expect(result).toEqual({ count: 4, trace: ['a', 'b'] });
    const state = await client.threads.getState(thread.thread_id);
    expect(state.values).toEqual({ count: 4, trace: ['a', 'b'] });
    expect(state.next).toEqual([]);
    const got = await client.threads.get(thread.thread_id);
    expect(got.status).toBe('idle');
    expect(got.values).toEqual({ count: 4, trace: ['a', 'b'] });
    const history = await client.threads.getHistory(thread.thread_id);
    expect(history.length).toBeGreaterThanOrEqual(3);
    // A second run on the same thread continues from its state.
    expect(await client.runs.wait(thread.thread_id, 'two', { input: { count: 2 } })).toEqual({ count: 6, trace: ['a', 'b', 'a', 'b'] });
  });

  it("durability 'exit' writes the run's checkpoint only at its end; the state is the same", async () => {
    const perStep = await client.threads.create();
    const atExit = await client.threads.create();
    expect(await client.runs.wait(perStep.thread_id, 'two', { input: { count: 1 } })).toEqual({ count: 4, trace: ['a', 'b'] });
    expect(await client.runs.wait(atExit.thread_id, 'two', { input: { count: 1 }, durability: 'exit' })).toEqual({ count: 4, trace: ['a', 'b'] });
    expect((await client.threads.getState(atExit.thread_id)).values).toEqual({ count: 4, trace: ['a', 'b'] });
    expect((await client.threads.get(atExit.thread_id)).values).toEqual({ count: 4, trace: ['a', 'b'] });
    const steps = (await client.threads.getHistory(perStep.thread_id, { limit: 50 })).length;
    const exit = (await client.threads.getHistory(atExit.thread_id, { limit: 50 })).length;
    expect(exit).toBeLessThan(steps);
    expect(exit).toBeGreaterThanOrEqual(1);
  });

  it('runs.stream starts with metadata and streams values and updates', async () => {
    const thread = await client.threads.create();
    const events: { event: string; data: unknown }[] = [];
    for await (const part of client.runs.stream(thread.thread_id, 'two', { input: { count: 1 }, streamMode: ['values', 'updates'] })) events.push(part);
    expect(events[0].event).toBe('metadata');
    expect(events[0].data).toEqual({ run_id: expect.any(String), attempt: 1 });
    expect(events.filter((e) => e.event === 'updates').map((e) => e.data)).toEqual([{ a: { count: 2, trace: ['a'] } }, { b: { count: 4, trace: ['b'] } }]);
    expect(events.filter((e) => e.event === 'values').at(-1)?.data).toEqual({ count: 4, trace: ['a', 'b'] });
  });

  it('interrupt leaves the thread interrupted with the value; a resume command continues it', async () => {
    const thread = await client.threads.create();
    const first = (await client.runs.wait(thread.thread_id, 'ask', { input: { question: 'name?' } })) as Record<string, unknown>;
    expect(first.__interrupt__).toEqual([expect.objectContaining({ value: { question: 'name?' } })]);
    const t = await client.threads.get(thread.thread_id);
    expect(t.status).toBe('interrupted');
    expect(Object.values(t.interrupts ?? {})[0]).toEqual([expect.objectContaining({ value: { question: 'name?' } })]);
    const state = await client.threads.getState(thread.thread_id);
    expect(state.next).toEqual(['ask']);
    expect(state.tasks[0].interrupts[0].value).toEqual({ question: 'name?' });
    const done = await client.runs.wait(thread.thread_id, 'ask', { command: { resume: 'Ada' } });
    expect(done).toEqual({ question: 'name?', answer: 'Ada', done: true });
    expect((await client.threads.get(thread.thread_id)).status).toBe('idle');
  });

  it('a background run can be joined and listed; a stateless run works too', async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, 'two', { input: { count: 10 } });
    expect(run.status).toBe('pending');
    expect(await client.runs.join(thread.thread_id, run.run_id)).toEqual({ count: 22, trace: ['a', 'b'] });
    expect((await client.runs.get(thread.thread_id, run.run_id)).status).toBe('success');
    expect((await client.runs.list(thread.thread_id)).map((r) => r.run_id)).toEqual([run.run_id]);
    expect(await client.runs.wait(null, 'two', { input: { count: 0 } })).toEqual({ count: 2, trace: ['a', 'b'] });
  });

  it('deleting a thread makes it and its state 404', async () => {
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, 'two', { input: { count: 1 } });
    await client.threads.delete(thread.thread_id);
    await expect(client.threads.get(thread.thread_id)).rejects.toMatchObject({ status: 404 });
    await expect(client.threads.getState(thread.thread_id)).rejects.toMatchObject({ status: 404 });
  });

  it('the store: put, get, search by prefix and filter, namespaces, delete', async () => {
    await client.store.putItem(['users', 'u1'], 'prefs', { theme: 'dark' });
    await client.store.putItem(['users', 'u2'], 'prefs', { theme: 'light' });
    expect((await client.store.getItem(['users', 'u1'], 'prefs'))?.value).toEqual({ theme: 'dark' });
    expect(await client.store.getItem(['users', 'u1'], 'missing')).toBeNull();
    const dark = await client.store.searchItems(['users'], { filter: { theme: 'dark' } });
    expect(dark.items.map((i) => i.namespace)).toEqual([['users', 'u1']]);
    const ns = await client.store.listNamespaces({ prefix: ['users'] });
    expect(ns.namespaces.sort()).toEqual([['users', 'u1'], ['users', 'u2']]);
    await client.store.deleteItem(['users', 'u1'], 'prefs');
    expect(await client.store.getItem(['users', 'u1'], 'prefs')).toBeNull();
  });

  it('exports runnel_agent_* metrics: runs by graph and status, durations, requests by route, queue depth', async () => {
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, 'two', { input: { count: 1 } });
    const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
    // Series as exported: the registry adds service="gateway" to every one.
    const value = (name: string, labels: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${name}{`) && labels.split(',').every((pair) => l.slice(0, l.indexOf('}')).includes(pair)))
          ?.split(' ')
          .pop() ?? NaN,
      );
    expect(value('runnel_agent_runs_finished_total', 'graph="two",status="success"')).toBeGreaterThanOrEqual(1);
    expect(value('runnel_agent_runs_started_total', 'graph="two"')).toBeGreaterThanOrEqual(1);
    expect(value('runnel_agent_run_duration_seconds_count', 'graph="two",status="success"')).toBeGreaterThanOrEqual(1);
    expect(value('runnel_agent_requests_total', 'route="runs.wait",status="200"')).toBeGreaterThanOrEqual(1);
    expect(value('runnel_agent_queue_depth', 'service="gateway"')).toBe(0);
    expect(value('runnel_agent_runs_running', 'service="gateway"')).toBe(0);
  });

  it('logs run created, run started and run finished with the run id and thread id', async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, 'two', { input: { count: 1 } });
    await client.runs.join(thread.thread_id, run.run_id);
    const line = (msg: string) => gw.logs.find((l) => l.msg === msg && l.runId === run.run_id);
    // "run finished" is logged just after the run's stream ends: look for a moment.
    await eventually('the run finished line', () => line('run finished'), 5_000, 25);
    expect(line('run created')).toMatchObject({ level: 'info', runId: run.run_id, threadId: thread.thread_id, graphId: 'two', multitaskStrategy: 'reject' });
    expect(line('run started')).toMatchObject({ level: 'info', runId: run.run_id, threadId: thread.thread_id, graphId: 'two', attempt: 1 });
    expect(line('run finished')).toMatchObject({ level: 'info', runId: run.run_id, threadId: thread.thread_id, status: 'success' });
  });

  it('records one OpenTelemetry span per run execution, with the run, thread, graph and outcome', async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, 'two', { input: { count: 1 } });
    await client.runs.join(thread.thread_id, run.run_id);
    // The span ends just after the run's stream does: look for a moment.
    const span = await eventually('the run span', () => spans.getFinishedSpans().find((s) => s.attributes['runnel.run_id'] === run.run_id), 10_000, 50);
    expect(span?.name).toBe('agent run two');
    expect(span?.attributes).toMatchObject({ 'runnel.thread_id': thread.thread_id, 'runnel.graph_id': 'two', 'runnel.attempt': 1, 'runnel.run_status': 'success' });
  });

  it('bad input is a 4xx naming the field', async () => {
    const thread = await client.threads.create();
    const res = await fetch(`${gw.url}/threads/${thread.thread_id}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: 'two', stream_mode: ['values', 'nope'] }),
    });
    expect(res.status).toBe(422);
    expect((await res.json()).detail).toMatch(/^stream_mode/);
    const unknown = await fetch(`${gw.url}/threads/not-a-uuid`);
    expect(unknown.status).toBe(422);
    expect((await fetch(`${gw.url}/threads/${crypto.randomUUID()}`)).status).toBe(404);
  });
});
