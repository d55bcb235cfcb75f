import { join } from 'node:path';
import { MemorySaver } from '@langchain/langgraph';
import { Client } from '@langchain/langgraph-sdk';
import { LangGraphReferenceServer } from '@runnel/testing';
import type { AgentEvent, Run, RunKwargs, StreamMode } from '../agent-types';
import { loadFixture } from './fixtures/load-fixture';
import { bindGraph, type CompiledGraph } from './graph-binding';
import { executeRun } from './run-stream';
import { serializeEvent } from './serialize-event';

/**
 * The same fixture graphs and requests through the reference (`@langchain/langgraph-api`'s dev
 * server, read with the SDK Client) and through executeRun + serializeEvent: the same sequence of
 * (event, data) once what legitimately differs between two executions is normalised (see
 * `normalise`). Our run takes the reference run's own kwargs (`runs.get`), so that the config the
 * API layer builds (configurable thread_id/run_id/graph_id/assistant_id/user-agent..., metadata)
 * is the same on both sides: that part is the API layer's, not executeRun's.
 */

const fixtures = join(__dirname, 'fixtures');
const GRAPHS = {
  two: './two-node.mjs:graph',
  chat: './chat.mjs:graph',
  interrupting: './interrupting.mjs:graph',
  nested: './nested.mjs:graph',
};

const ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{32}\b/g;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Ids and times are made afresh by every execution: each distinct UUID (checkpoint ids — time
 * based —, task ids — derived from the checkpoint —, message ids, callback run ids, wherever they
 * appear, in checkpoint_ns too) and each 32-hex interrupt id (a hash of the task's checkpoint_ns,
 * so of its task id) becomes `<id:N>` by order of first appearance, so that which ids are equal
 * to which is still compared; each ISO timestamp becomes `<time>`.
 */
function normalise(events: AgentEvent[]): AgentEvent[] {
  const ids = new Map<string, string>();
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (ISO.test(value)) return '<time>';
      return value.replace(ID, (id) => {
        if (!ids.has(id)) ids.set(id, `<id:${ids.size}>`);
        return ids.get(id)!;
      });
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [walk(k) as string, walk(v)]));
    }
    return value;
  };
  return events.map((e) => ({ event: walk(e.event) as string, data: walk(e.data) }));
}

let server: LangGraphReferenceServer;
let client: Client;
const graphs: Record<string, CompiledGraph> = {};

beforeAll(async () => {
  server = await LangGraphReferenceServer.start({ graphs: GRAPHS, cwd: fixtures, logLevel: 'warn' });
  client = new Client({ apiUrl: server.url });
  // As the reference sets it for its runs: metadata.langgraph_api_url is the same on both sides.
  process.env.LANGGRAPH_API_URL = server.url;
  for (const [id, spec] of Object.entries(GRAPHS)) {
    const [file, name] = spec.split(':');
    graphs[id] = loadFixture<Record<string, CompiledGraph>>(file)[name];
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

interface Request {
  input?: unknown;
  command?: RunKwargs['command'];
  streamMode: StreamMode[];
  streamSubgraphs?: boolean;
  interruptBefore?: string[];
  interruptAfter?: string[];
  config?: { tags?: string[]; recursion_limit?: number; configurable?: Record<string, unknown> };
  context?: unknown;
}

/** A thread on each side: the reference's (by id) and ours (a MemorySaver). */
interface Pair {
  threadId: string;
  saver: MemorySaver;
}

async function pair(): Promise<Pair> {
  const thread = await client.threads.create();
  return { threadId: thread.thread_id, saver: new MemorySaver() };
}

async function both(threads: Pair, graphId: keyof typeof GRAPHS, request: Request): Promise<{ reference: AgentEvent[]; ours: AgentEvent[] }> {
  const reference: AgentEvent[] = [];
  for await (const chunk of client.runs.stream(threads.threadId, graphId, request as never)) {
    reference.push({ event: chunk.event, data: chunk.data });
  }
  const runId = (reference[0].data as { run_id: string }).run_id;
  const stored = (await client.runs.get(threads.threadId, runId)) as unknown as Run;
  const run: Run = { ...stored, kwargs: stored.kwargs };
  const graph = await bindGraph(graphs[graphId], { checkpointer: threads.saver });
  const ours: AgentEvent[] = [];
  for await (const event of executeRun(run, { graph, attempt: 1 })) {
    ours.push({ event: event.event, data: JSON.parse(serializeEvent(event)) });
  }
  return { reference, ours };
}

/**
 * streamEvents merges two producers: the graph's stream (the root's on_chain_stream: values,
 * updates, custom, messages-tuple, debug, tasks, checkpoints, and messages/complete that is read
 * from values) and the callbacks (on_chat_model_stream → messages/metadata, messages/partial;
 * every `events` event). Within each the order is the graph's; how the two interleave depends on
 * when the consumer pulls (the reference pulls through its SSE writer, we in a loop): each is
 * compared on its own, in order (together they are all the events).
 */
const FROM_CALLBACKS = new Set(['messages/metadata', 'messages/partial', 'events']);
function bySource(events: AgentEvent[]) {
  return {
    graph: events.filter((e) => !FROM_CALLBACKS.has(e.event)),
    callbacks: events.filter((e) => FROM_CALLBACKS.has(e.event)),
  };
}

function expectSame({ reference, ours }: { reference: AgentEvent[]; ours: AgentEvent[] }) {
  // Ids are numbered over the graph's events then the callbacks' (an order both sides share).
  const split = (events: AgentEvent[]) => {
    const { graph, callbacks } = bySource(events);
    const all = normalise([...graph, ...callbacks]);
    return { graph: all.slice(0, graph.length), callbacks: all.slice(graph.length) };
  };
  const [x, y] = [split(ours), split(reference)];
  expectSameSequence(x.graph, y.graph);
  expectSameSequence(x.callbacks, y.callbacks);
}

function expectSameSequence(a: AgentEvent[], b: AgentEvent[]) {
  // The first difference on its own (a whole stream's diff is long), then the whole.
  const at = a.findIndex((e, i) => JSON.stringify(e) !== JSON.stringify(b[i]));
  if (at >= 0) expect({ at, ours: a[at] }).toEqual({ at, ours: b[at] });
  expect(a).toEqual(b);
}

describe('executeRun against the reference server', () => {
  it('two nodes: values, updates, tasks, checkpoints, debug together', async () => {
    const result = await both(await pair(), 'two', { input: { count: 1 }, streamMode: ['values', 'updates', 'tasks', 'checkpoints', 'debug'] });
    expect(result.reference.map((e) => e.event)).toContain('debug');
    expectSame(result);
  });

  it('two nodes: config tags, recursion_limit, configurable, interrupt_before', async () => {
    const result = await both(await pair(), 'two', {
      input: { count: 5 },
      streamMode: ['values', 'updates', 'debug'],
      interruptBefore: ['b'],
      config: { tags: ['t1'], recursion_limit: 7, configurable: { flavour: 'plain' } },
    });
    expectSame(result);
  });

  it('chat: messages, messages-tuple, custom, values together', async () => {
    const result = await both(await pair(), 'chat', {
      input: { messages: [{ role: 'user', content: 'hi' }] },
      streamMode: ['messages', 'messages-tuple', 'custom', 'values'],
    });
    const events = result.reference.map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['messages', 'messages/partial', 'messages/metadata', 'messages/complete', 'custom']));
    expectSame(result);
  });

  it('chat: messages-tuple, custom, values (the graph stream, no streamEvents)', async () => {
    const result = await both(await pair(), 'chat', {
      input: { messages: [{ role: 'user', content: 'hi' }] },
      streamMode: ['messages-tuple', 'custom', 'values'],
    });
    expect(result.reference.map((e) => e.event)).toEqual(expect.arrayContaining(['messages', 'custom', 'values']));
    expectSame(result);
  });

  it('two nodes: values only, config tags (the graph stream, no streamEvents)', async () => {
    const result = await both(await pair(), 'two', { input: { count: 2 }, streamMode: ['values'], config: { tags: ['t1'] } });
    expectSame(result);
  });

  it('chat: events', async () => {
    const result = await both(await pair(), 'chat', { input: { messages: [{ role: 'user', content: 'hi' }] }, streamMode: ['events'] });
    expectSame(result);
  });

  it('interrupt, then resume with a command', async () => {
    const threads = await pair();
    expectSame(await both(threads, 'interrupting', { input: { question: 'name?' }, streamMode: ['values', 'updates', 'debug'] }));
    expectSame(await both(threads, 'interrupting', { command: { resume: 'Ada' }, streamMode: ['values', 'updates', 'tasks'] }));
  });

  it('subgraphs with values: the reference fails the run (see run-stream.ts), we do not', async () => {
    const result = await both(await pair(), 'nested', { input: { trace: ['start'] }, streamMode: ['values', 'updates'], streamSubgraphs: true });
    // LangGraph 1.7 streams a bare `checkpoints` chunk ({id, parent_id, step, source}) from a
    // subgraph before its `values`; the reference reads `.tasks` of it as a checkpoint payload.
    expect(result.reference.map((e) => e.event)).toEqual(['metadata', 'error']);
    expect((result.reference[1].data as { message: string }).message).toMatch(/reading 'map'/);
    expect(normalise(result.ours).map((e) => e.event)).toEqual([
      'metadata',
      'values',
      'values|inner:<id:1>',
      'updates|inner:<id:1>',
      'values|inner:<id:1>',
      'updates',
      'values',
      'updates',
      'values',
    ]);
    // (The subgraph returns its whole state, 'start' included, to the parent's concatenating reducer.)
    expect(result.ours.at(-1)!.data).toEqual({ trace: ['start', 'start', 'inner', 'outer'] });
  });

  it('subgraphs: mode|ns', async () => {
    const result = await both(await pair(), 'nested', { input: { trace: ['start'] }, streamMode: ['updates', 'debug'], streamSubgraphs: true });
    expect(result.reference.some((e) => e.event.startsWith('updates|inner:'))).toBe(true);
    expectSame(result);
  });
});
