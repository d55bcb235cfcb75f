import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import type { Client } from '@langchain/langgraph-sdk';
import { eventually } from '@runnel/testing';
import { loadFixture } from '../../src/agents/execution/fixtures/load-fixture';
import type { TestGateway } from '../gateway-harness';
import { AgentBackends } from './agent-harness';
import { Receiver } from './webhook-receiver';

const twoNode = loadFixture<{ graph: object }>('two-node.mjs').graph;
const failing = new StateGraph(Annotation.Root({ n: Annotation<number>() }))
  .addNode('boom', () => {
    throw new Error('the node failed on purpose');
  })
  .addEdge(START, 'boom')
  .addEdge('boom', END)
  .compile();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls `probe` every 25 ms (libs/testing's eventually) until it gives a truthy value. */
const until = <T>(probe: () => Promise<T> | T, what: string, timeoutMs = 10_000) => eventually(what, probe as () => Promise<NonNullable<T>>, timeoutMs, 25);

const SECRET = 'sekrit-token-4c1f9e';

let backends: AgentBackends;
let gw: TestGateway & { client: Client };
let client: Client;
let receiver: Receiver;

beforeAll(async () => {
  backends = await AgentBackends.start();
  gw = await backends.gateway((r) => {
    r.addGraph(twoNode, { graphId: 'two' });
    r.addGraph(failing, { graphId: 'failing' });
  });
  client = gw.client;
  receiver = await Receiver.start();
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await receiver?.stop();
  await backends?.stop();
});

describe('run webhooks', () => {
  // The payload of a successful thread run is compared on both servers in agent-conformance.spec.ts.
  it('POSTs status error and the error message when a run fails; a stateless run too', async () => {
    const webhook = `${receiver.base}/error-hook?token=${SECRET}`;
    const run = await client.runs.create(null, 'failing', { input: { n: 1 }, webhook });
    const [got] = await until(() => (receiver.at('/error-hook').length ? receiver.at('/error-hook') : undefined), 'the webhook');
    expect(got.body).toMatchObject({ run_id: run.run_id, status: 'error', error: 'the node failed on purpose' });
  });

  it('carries the values of a stateless run that streamed none (its thread is deleted before the webhook goes)', async () => {
    const webhook = `${receiver.base}/stateless-hook?token=${SECRET}`;
    const run = await client.runs.create(null, 'two', { input: { count: 1 }, webhook, streamMode: ['updates'] });
    const [got] = await until(() => (receiver.at('/stateless-hook').length ? receiver.at('/stateless-hook') : undefined), 'the webhook');
    expect(got.body).toMatchObject({ run_id: run.run_id, status: 'success', values: { count: 4, trace: ['a', 'b'] } });
  });

  it('retries a receiver that answers 503 twice, with backoff: 3 attempts, the last one answered 200', async () => {
    receiver.answer = (n, path) => (path === '/flaky-hook' && n <= 2 ? 503 : 200);
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, 'two', { input: { count: 2 }, webhook: `${receiver.base}/flaky-hook?token=${SECRET}` });
    await until(() => receiver.at('/flaky-hook').length >= 3, 'three attempts', 15_000);
    await sleep(1_200);
    const attempts = receiver.at('/flaky-hook');
    expect(attempts).toHaveLength(3);
    expect(attempts.every((a) => (a.body.values as { count: number }).count === 6)).toBe(true);
    // 0.5 s, then 1 s between them.
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(450);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(950);
    expect(gw.logs.filter((l) => l.msg === 'webhook attempt failed; retrying' && l.status === 503)).toHaveLength(2);
    expect(gw.logs.some((l) => l.msg === 'webhook sent' && l.attempt === 3)).toBe(true);
  }, 20_000);

  it('does not retry a 4xx other than 429 and 408', async () => {
    receiver.answer = (_n, path) => (path === '/gone-hook' ? 404 : 200);
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, 'two', { input: { count: 2 }, webhook: `${receiver.base}/gone-hook?token=${SECRET}` });
    await until(() => receiver.at('/gone-hook').length >= 1, 'the attempt');
    await sleep(800);
    expect(receiver.at('/gone-hook')).toHaveLength(1);
  });

  it('refuses a webhook that is not an http(s) URL', async () => {
    const res = await fetch(`${gw.url}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assistant_id: 'two', input: { count: 1 }, webhook: 'file:///etc/passwd' }),
    });
    expect(res.status).toBe(422);
    expect((await res.json()).detail).toMatch(/^webhook: /);
  });

  it("never logs a webhook URL's query string or userinfo", async () => {
    // A receiver that is not there: every attempt fails with a network error, and is logged.
    const thread = await client.threads.create();
    await client.runs.wait(thread.thread_id, 'two', { input: { count: 1 }, webhook: `http://user:${SECRET}-pw@127.0.0.1:9/down-hook?token=${SECRET}` });
    await until(() => gw.logs.some((l) => l.msg === 'webhook failed' && String(l.url).endsWith('/down-hook')), 'the last attempt', 15_000);
    const logged = JSON.stringify(gw.logs);
    expect(logged).toContain('http://127.0.0.1:9/down-hook');
    expect(logged).toContain(`${receiver.base}/error-hook`);
    expect(logged).not.toContain(SECRET);
  }, 20_000);
});
