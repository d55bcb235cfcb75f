import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TARGETS, tag, until, useTargets } from './conformance-targets';
import { Receiver } from './webhook-receiver';

const versionOf = (pkg: string) => (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
const LANGGRAPH_JS_VERSION = versionOf('@langchain/langgraph');
const LANGGRAPH_API_VERSION = versionOf('@langchain/langgraph-api');

/**
 * Conformance, part 1 (assistants, threads, store): one list of behaviours through the official
 * SDK Client, run against the gateway and against the reference dev server, so that any
 * divergence shows. Runs: agent-conformance-runs.spec.ts; stream modes and interrupts:
 * agent-conformance-streams.spec.ts.
 */

const target = useTargets(['two', 'ask', 'notes', 'recall', 'typed', 'zodtyped', 'nestedtyped']);

describe.each(TARGETS)('conformance on the %s: assistants, threads, store', (name) => {
  const client = () => target(name).client;

  describe('assistants', () => {
    it('one per graph, made at start; search by graph_id and metadata; get; unknown id → 404', async () => {
      const c = client();
      const two = await c.assistants.search({ graphId: 'two' });
      expect(two).toHaveLength(1);
      expect(two[0]).toMatchObject({ graph_id: 'two', metadata: { created_by: 'system' }, version: 1 });
      const system = await c.assistants.search({ metadata: { created_by: 'system' }, limit: 100 });
      expect(system.map((a) => a.graph_id).sort()).toEqual(['ask', 'nestedtyped', 'notes', 'recall', 'two', 'typed', 'zodtyped']);
      expect(await c.assistants.get(two[0].assistant_id)).toMatchObject({ assistant_id: two[0].assistant_id, graph_id: 'two' });
      // A graph id stands for its graph's assistant.
      expect(await c.assistants.get('two')).toMatchObject({ assistant_id: two[0].assistant_id });
      await expect(c.assistants.get(randomUUID())).rejects.toMatchObject({ status: 404 });
    });

    it('create, update (a new version), getVersions, setLatest', async () => {
      const c = client();
      const t = tag();
      const created = await c.assistants.create({ graphId: 'two', name: 'first', metadata: { t, v: 1 }, config: { configurable: { x: 1 } } });
      expect(created).toMatchObject({ graph_id: 'two', name: 'first', metadata: { t, v: 1 }, version: 1 });
      expect(created.assistant_id).not.toBe((await c.assistants.search({ graphId: 'two', metadata: { created_by: 'system' } }))[0].assistant_id);
      const updated = await c.assistants.update(created.assistant_id, { name: 'second', metadata: { t, v: 2 } });
      expect(updated).toMatchObject({ assistant_id: created.assistant_id, name: 'second', metadata: { t, v: 2 }, version: 2 });
      expect(await c.assistants.search({ metadata: { t } })).toEqual([expect.objectContaining({ assistant_id: created.assistant_id, version: 2 })]);
      const versions = await c.assistants.getVersions(created.assistant_id);
      expect(versions.map((v) => [v.version, v.name, v.metadata])).toEqual([
        [2, 'second', { t, v: 2 }],
        [1, 'first', { t, v: 1 }],
      ]);
      const back = await c.assistants.setLatest(created.assistant_id, 1);
      expect(back).toMatchObject({ assistant_id: created.assistant_id, version: 1, name: 'first', metadata: { t, v: 1 } });
      expect(await c.assistants.get(created.assistant_id)).toMatchObject({ version: 1, name: 'first' });
      // A run with the created assistant runs its graph.
      expect(await c.runs.wait(null, created.assistant_id, { input: { count: 0 } })).toEqual({ count: 2, trace: ['a', 'b'] });
    });

    it('getGraph draws the graph: its nodes and edges', async () => {
      const graph = await client().assistants.getGraph('two');
      expect(graph.nodes.map((n) => n.id).sort()).toEqual(['__end__', '__start__', 'a', 'b']);
      expect(graph.edges.map((e) => [e.source, e.target]).sort()).toEqual([
        ['__start__', 'a'],
        ['a', 'b'],
        ['b', '__end__'],
      ]);
    });

    // An Annotation state carries no types: the reference then extracts schemas with the TypeScript
    // compiler from the graph's source, ~30 s on these plain .mjs graphs (this file's whole time
    // budget); the gateway answers nulls. Typed states: below, both targets compared.
    (name === 'reference' ? it.skip : it)('getSchemas on an Annotation graph: the graph id and null schemas (skipped on the reference: ~30 s per call)', async () => {
      const schemas = await client().assistants.getSchemas('two');
      expect(schemas).toEqual({ graph_id: 'two', input_schema: null, output_schema: null, state_schema: null, config_schema: null, context_schema: null });
    });

    it('getSchemas on a StateSchema graph and on a zod-state graph: JSON Schemas of state, input and output', async () => {
      const typed = await client().assistants.getSchemas('typed');
      expect(typed).toMatchObject({ graph_id: 'typed', state_schema: { type: 'object', properties: { count: { type: 'number', description: 'how many steps ran' }, trace: { type: 'array' } } } });
      expect((typed.input_schema as { properties: object }).properties).toHaveProperty('count');
      const zod = await client().assistants.getSchemas('zodtyped');
      expect(zod).toMatchObject({ graph_id: 'zodtyped', state_schema: { type: 'object', properties: { count: { type: 'number' }, trace: { type: 'array' } } } });
    });
  });

  describe('threads', () => {
    it('create with metadata and with a thread_id; if_exists raise → 409, do_nothing → the existing one; get', async () => {
      const c = client();
      const t = tag();
      const made = await c.threads.create({ metadata: { t } });
      expect(made).toMatchObject({ status: 'idle', metadata: { t } });
      expect(await c.threads.get(made.thread_id)).toMatchObject({ thread_id: made.thread_id, status: 'idle', metadata: { t } });
      const id = randomUUID();
      expect(await c.threads.create({ threadId: id, metadata: { t, n: 1 } })).toMatchObject({ thread_id: id, metadata: { t, n: 1 } });
      await expect(c.threads.create({ threadId: id, ifExists: 'raise' })).rejects.toMatchObject({ status: 409 });
      expect(await c.threads.create({ threadId: id, ifExists: 'do_nothing', metadata: { t, n: 2 } })).toMatchObject({ thread_id: id, metadata: { t, n: 1 } });
      await expect(c.threads.get(randomUUID())).rejects.toMatchObject({ status: 404 });
    });

    it('search by metadata and by status', async () => {
      const c = client();
      const t = tag();
      const idle = await c.threads.create({ metadata: { t, kind: 'idle' } });
      const asked = await c.threads.create({ metadata: { t, kind: 'asked' } });
      await c.runs.wait(idle.thread_id, 'two', { input: { count: 1 } });
      await c.runs.wait(asked.thread_id, 'ask', { input: { question: 'q?' } });
      expect((await c.threads.search({ metadata: { t } })).map((x) => x.thread_id).sort()).toEqual([idle.thread_id, asked.thread_id].sort());
      expect((await c.threads.search({ metadata: { t, kind: 'idle' } })).map((x) => x.thread_id)).toEqual([idle.thread_id]);
      expect((await c.threads.search({ metadata: { t }, status: 'interrupted' })).map((x) => x.thread_id)).toEqual([asked.thread_id]);
      expect((await c.threads.search({ metadata: { t }, status: 'idle' })).map((x) => x.thread_id)).toEqual([idle.thread_id]);
    });

    it('getState of a new thread and after a run', async () => {
      const c = client();
      const thread = await c.threads.create();
      expect(await c.threads.getState(thread.thread_id)).toMatchObject({ values: {}, next: [], tasks: [] });
      await c.runs.wait(thread.thread_id, 'two', { input: { count: 1 } });
      const state = await c.threads.getState(thread.thread_id);
      expect(state).toMatchObject({ values: { count: 4, trace: ['a', 'b'] }, next: [], tasks: [], metadata: { source: 'loop', step: 2 } });
      expect(state.checkpoint).toMatchObject({ thread_id: thread.thread_id, checkpoint_ns: '', checkpoint_id: expect.any(String) });
    });

    it('getHistory after two runs: every checkpoint, newest first, each the parent of the one before', async () => {
      const c = client();
      const thread = await c.threads.create();
      await c.runs.wait(thread.thread_id, 'two', { input: { count: 1 } });
      await c.runs.wait(thread.thread_id, 'two', { input: { count: 2 } });
      const history = await c.threads.getHistory(thread.thread_id, { limit: 100 });
      expect(history.map((h) => [h.metadata?.source, h.metadata?.step])).toEqual([
        ['loop', 6],
        ['loop', 5],
        ['loop', 4],
        ['input', 3],
        ['loop', 2],
        ['loop', 1],
        ['loop', 0],
        ['input', -1],
      ]);
      expect(history[0].values).toEqual({ count: 6, trace: ['a', 'b', 'a', 'b'] });
      for (let i = 0; i + 1 < history.length; i++) expect(history[i].parent_checkpoint?.checkpoint_id).toBe(history[i + 1].checkpoint.checkpoint_id);
      expect(history.at(-1)?.parent_checkpoint).toBeNull();
      expect(await c.threads.getHistory(thread.thread_id, { limit: 2 })).toHaveLength(2);
      // Each checkpoint's metadata carries its run's: graph, assistant, run; history filters on it.
      const [second, first] = await c.runs.list(thread.thread_id).then((runs) => runs.sort((x, y) => y.created_at.localeCompare(x.created_at)));
      expect(history.map((h) => h.metadata?.run_id)).toEqual([...Array(4).fill(second.run_id), ...Array(4).fill(first.run_id)]);
      for (const h of history) expect(h.metadata).toMatchObject({ graph_id: 'two', assistant_id: first.assistant_id, thread_id: thread.thread_id, run_attempt: 1 });
      const ofFirst = await c.threads.getHistory(thread.thread_id, { metadata: { run_id: first.run_id } });
      expect(ofFirst.map((h) => h.metadata?.step)).toEqual([2, 1, 0, -1]);
    });

    it('updateState, then getState shows it', async () => {
      const c = client();
      const thread = await c.threads.create();
      await c.runs.wait(thread.thread_id, 'two', { input: { count: 1 } });
      const before = await c.threads.getState(thread.thread_id);
      // (The SDK types the answer as a config; both servers answer `{checkpoint}`.)
      const updated = (await c.threads.updateState(thread.thread_id, { values: { count: 100, trace: ['x'] }, asNode: 'b' })) as unknown as { checkpoint: { checkpoint_id: string } };
      expect(updated.checkpoint).toMatchObject({ thread_id: thread.thread_id, checkpoint_id: expect.any(String) });
      const after = await c.threads.getState(thread.thread_id);
      expect(after.values).toEqual({ count: 100, trace: ['a', 'b', 'x'] });
      expect(after.checkpoint.checkpoint_id).toBe(updated.checkpoint.checkpoint_id);
      expect(after.parent_checkpoint?.checkpoint_id).toBe(before.checkpoint.checkpoint_id);
      expect(after.metadata).toMatchObject({ source: 'update', step: 3 });
      expect((await c.threads.get(thread.thread_id)).values).toEqual({ count: 100, trace: ['a', 'b', 'x'] });
      // The next run goes on from the updated state.
      expect(await c.runs.wait(thread.thread_id, 'two', { input: { count: 1 } })).toEqual({ count: 4, trace: ['a', 'b', 'x', 'a', 'b'] });
    });

    it('create with supersteps: the thread starts with that history, one checkpoint per superstep; the next run goes on from it', async () => {
      const c = client();
      const thread = await c.threads.create({
        graphId: 'two',
        supersteps: [{ updates: [{ values: { count: 5, trace: ['x'] }, asNode: 'a' }] }, { updates: [{ values: { count: 7, trace: ['y'] }, asNode: 'b' }] }],
      });
      const state = await c.threads.getState(thread.thread_id);
      expect(state.values).toEqual({ count: 7, trace: ['x', 'y'] });
      expect(state.next).toEqual([]);
      const history = await c.threads.getHistory(thread.thread_id);
      expect(history.map((h) => h.metadata?.source)).toEqual(['update', 'update']);
      expect((await c.threads.get(thread.thread_id)).values).toEqual({ count: 7, trace: ['x', 'y'] });
      expect(await c.runs.wait(thread.thread_id, 'two', { input: { count: 1 } })).toEqual({ count: 4, trace: ['x', 'y', 'a', 'b'] });
      // Without a graph to apply them to: 400.
      await expect(c.threads.create({ supersteps: [{ updates: [{ values: { count: 1 }, asNode: 'a' }] }] })).rejects.toMatchObject({ status: 400 });
    });

    it('copy: a new thread with the same state', async () => {
      const c = client();
      const thread = await c.threads.create({ metadata: { t: tag() } });
      await c.runs.wait(thread.thread_id, 'two', { input: { count: 1 } });
      const copy = await c.threads.copy(thread.thread_id);
      expect(copy.thread_id).not.toBe(thread.thread_id);
      expect((await c.threads.getState(copy.thread_id)).values).toEqual({ count: 4, trace: ['a', 'b'] });
      // The copy goes its own way.
      await c.runs.wait(copy.thread_id, 'two', { input: { count: 0 } });
      expect((await c.threads.getState(copy.thread_id)).values).toEqual({ count: 2, trace: ['a', 'b', 'a', 'b'] });
      expect((await c.threads.getState(thread.thread_id)).values).toEqual({ count: 4, trace: ['a', 'b'] });
    });

    it('delete: then get and getState are 404', async () => {
      const c = client();
      const thread = await c.threads.create();
      await c.runs.wait(thread.thread_id, 'two', { input: { count: 1 } });
      await c.threads.delete(thread.thread_id);
      await expect(c.threads.get(thread.thread_id)).rejects.toMatchObject({ status: 404 });
      await expect(c.threads.getState(thread.thread_id)).rejects.toMatchObject({ status: 404 });
    });
  });

  describe('store', () => {
    it('put, get (missing → null), search by prefix and filter, listNamespaces, delete', async () => {
      const c = client();
      const root = tag();
      await c.store.putItem([root, 'u1'], 'prefs', { theme: 'dark', n: 1 });
      await c.store.putItem([root, 'u2'], 'prefs', { theme: 'light', n: 2 });
      await c.store.putItem([root, 'u2', 'deep'], 'other', { theme: 'dark', n: 3 });
      expect(await c.store.getItem([root, 'u1'], 'prefs')).toMatchObject({ namespace: [root, 'u1'], key: 'prefs', value: { theme: 'dark', n: 1 } });
      expect(await c.store.getItem([root, 'u1'], 'missing')).toBeNull();
      const all = await c.store.searchItems([root]);
      expect(all.items.map((i) => i.value.n).sort()).toEqual([1, 2, 3]);
      expect((await c.store.searchItems([root, 'u2'])).items.map((i) => i.value.n).sort()).toEqual([2, 3]);
      const dark = await c.store.searchItems([root], { filter: { theme: 'dark' } });
      expect(dark.items.map((i) => [i.namespace, i.key]).sort()).toEqual([
        [[root, 'u1'], 'prefs'],
        [[root, 'u2', 'deep'], 'other'],
      ]);
      const ns = await c.store.listNamespaces({ prefix: [root] });
      expect(ns.namespaces.map((n) => n.join('/')).sort()).toEqual([`${root}/u1`, `${root}/u2`, `${root}/u2/deep`]);
      expect((await c.store.listNamespaces({ prefix: [root], maxDepth: 2 })).namespaces.map((n) => n.join('/')).sort()).toEqual([`${root}/u1`, `${root}/u2`]);
      await c.store.deleteItem([root, 'u1'], 'prefs');
      expect(await c.store.getItem([root, 'u1'], 'prefs')).toBeNull();
    });

    it("what a graph writes through config.store is visible through the API", async () => {
      const c = client();
      const user = tag();
      const result = await c.runs.wait(null, 'notes', { input: { user, key: 'k1', text: 'remember me' } });
      expect(result).toMatchObject({ saved: { text: 'remember me' } });
      expect(await c.store.getItem(['notes', user], 'k1')).toMatchObject({ namespace: ['notes', user], key: 'k1', value: { text: 'remember me' } });
      expect((await c.store.searchItems(['notes', user])).items.map((i) => i.key)).toEqual(['k1']);
    });

    it('what the API puts in the store a graph reads through config.store and getStore()', async () => {
      const c = client();
      const user = tag();
      await c.store.putItem(['notes', user], 'k1', { text: 'put through the API' });
      await c.store.putItem(['notes', user], 'k2', { text: 'another' });
      expect(await c.runs.wait(null, 'recall', { input: { user, key: 'k1' } })).toEqual({
        user,
        key: 'k1',
        viaConfig: { text: 'put through the API' },
        viaGetStore: { text: 'put through the API' },
        keys: ['k1', 'k2'],
      });
      // An update through the API is what the next run reads; a deleted item is gone for it.
      await c.store.putItem(['notes', user], 'k1', { text: 'changed' });
      await c.store.deleteItem(['notes', user], 'k2');
      expect(await c.runs.wait(null, 'recall', { input: { user, key: 'k1' } })).toMatchObject({ viaConfig: { text: 'changed' }, viaGetStore: { text: 'changed' }, keys: ['k1'] });
      expect(await c.runs.wait(null, 'recall', { input: { user, key: 'k2' } })).toMatchObject({ viaConfig: null, viaGetStore: null });
    });
  });
});

describe.each(TARGETS)('conformance on the %s: /ok, /info, run webhooks', (name) => {
  const client = () => target(name).client;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.stop();
  });
  /** The POSTs `path` received, once there is one. */
  const hooks = (path: string) => until(async () => (receiver.at(path).length ? receiver.at(path) : undefined), 10_000, `the webhook at ${path}`);

  it('/ok; /info: the same context, langgraph version and assistants flag; the flags that differ, each as it is', async () => {
    const { url } = target(name);
    expect(await (await fetch(`${url}/ok`)).json()).toEqual({ ok: true });
    const info = await (await fetch(`${url}/info`)).json();
    expect(info).toMatchObject({ context: 'js', langgraph_js_version: LANGGRAPH_JS_VERSION, version: expect.any(String), flags: { assistants: true, langsmith: false } });
    // Divergences, asserted rather than skipped: the reference dev server schedules no crons and its
    // `version` is @langchain/langgraph-api's; the gateway runs crons (crons/, on a replica with a
    // worker) and sends no traces to LangSmith, so it claims no LangSmith tracing replicas.
    if (name === 'gateway') expect(info).toMatchObject({ version: '0.1.0', flags: { crons: true, langsmith_tracing_replicas: false } });
    else expect(info).toMatchObject({ version: LANGGRAPH_API_VERSION, flags: { crons: false, langsmith_tracing_replicas: true } });
  });

  it("a run's webhook: the run's fields, status, times and final values; an error run's carries the error", async () => {
    const c = client();
    const thread = await c.threads.create();
    const path = `/${name}-ok`;
    const run = await c.runs.create(thread.thread_id, 'two', { input: { count: 1 }, metadata: { t: 'hook' }, webhook: `${receiver.base}${path}?token=abc` });
    const [got] = await hooks(path);
    expect(got.url).toBe(`${path}?token=abc`);
    expect(got.body).toMatchObject({
      run_id: run.run_id,
      thread_id: thread.thread_id,
      assistant_id: run.assistant_id,
      status: 'success',
      values: { count: 4, trace: ['a', 'b'] },
      run_started_at: expect.any(String),
      run_ended_at: expect.any(String),
      webhook_sent_at: expect.any(String),
      metadata: expect.objectContaining({ t: 'hook' }),
      multitask_strategy: 'reject',
      kwargs: expect.objectContaining({ input: { count: 1 } }),
    });
    expect(got.body.error).toBeUndefined();
    expect(Date.parse(String(got.body.run_ended_at))).toBeGreaterThanOrEqual(Date.parse(String(got.body.run_started_at)));
    // A run that fails (two nodes, a recursion limit of 1): status error and the error's message.
    const failing = await c.runs.create(thread.thread_id, 'two', { input: { count: 1 }, config: { recursion_limit: 1 }, webhook: `${receiver.base}/${name}-error` });
    const [failed] = await hooks(`/${name}-error`);
    expect(failed.body).toMatchObject({ run_id: failing.run_id, thread_id: thread.thread_id, status: 'error', error: expect.stringMatching(/Recursion limit of 1 reached/) });
  });

  it("a stateless run's webhook: the gateway sends its final values, the reference none", async () => {
    const run = await client().runs.create(null, 'two', { input: { count: 1 }, webhook: `${receiver.base}/${name}-stateless` });
    const [got] = await hooks(`/${name}-stateless`);
    expect(got.body).toMatchObject({ run_id: run.run_id, status: 'success' });
    // A divergence, asserted: the reference takes `values` from the run's last checkpoint and a
    // stateless (temporary) run records none there, so the key is absent; the gateway keeps the
    // values the run streamed (run-worker.ts) and sends them.
    if (name === 'gateway') expect(got.body.values).toEqual({ count: 4, trace: ['a', 'b'] });
    else expect(got.body).not.toHaveProperty('values');
  });
});

describe('conformance: getSchemas, the gateway against the reference', () => {
  it('the same answer for typed states (StateSchema, zod with withLangGraph), subgraph schemas included', async () => {
    const [gateway, reference] = [target('gateway').client, target('reference').client];
    expect(Object.keys(await gateway.assistants.getSubgraphs('nestedtyped'))).toEqual(['inner']);
    for (const id of ['typed', 'zodtyped', 'nestedtyped']) {
      expect({ id, schemas: await gateway.assistants.getSchemas(id) }).toEqual({ id, schemas: await reference.assistants.getSchemas(id) });
      expect({ id, subgraphs: await gateway.assistants.getSubgraphs(id) }).toEqual({ id, subgraphs: await reference.assistants.getSubgraphs(id) });
    }
  });
});
