import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { Document } from '@langchain/core/documents';
import { AIMessage } from '@langchain/core/messages';
import { RunnableLambda, RunnableSequence } from '@langchain/core/runnables';
import { Document as DocumentV03 } from 'langchain-core-v03/documents';
import { AIMessage as AIMessageV03 } from 'langchain-core-v03/messages';
import { RemoteRunnable } from 'langchain-core-v03/runnables/remote';
import { z } from 'zod';
import { encodeConfigHash } from '../src/protocol/run-config';
import { postJson, startTestGateway, type TestGateway } from './gateway-harness';

/**
 * The points where LangServe 0.3.3 (langserve/api_handler.py) and its clients notice a difference,
 * checked over HTTP against a live gateway (raw bytes where bytes matter) and through the JS
 * RemoteRunnable. Several cases are ports of langserve/tests/unit_tests/test_server_client.py.
 */

function rawPost(url: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

type Frame = { event: string; data?: any };

/** Splits an SSE body into frames, JSON-parsing data (comments dropped). */
function frames(text: string): Frame[] {
  return text
    .split('\r\n\r\n')
    .filter((f) => f && !f.startsWith(':'))
    .map((f) => {
      const [head, data] = f.split('\r\n');
      return data === undefined ? { event: head.slice('event: '.length) } : { event: head.slice('event: '.length), data: JSON.parse(data.slice('data: '.length)) };
    });
}

/** LangServe's own test helper: the metadata event's run id replaced by a placeholder. */
function replaceRunId(text: string): string {
  const marker = 'event: metadata\r\ndata: {"run_id": "';
  const at = text.indexOf(marker);
  expect(at).not.toBe(-1);
  const id = text.slice(at + marker.length, at + marker.length + 36);
  return text.split(id).join('<REPLACED>');
}

async function streamLogOps(url: string, body: unknown): Promise<{ ops: any[][]; tail: Frame[] }> {
  const res = await rawPost(url, body);
  expect(res.status).toBe(200);
  const all = frames(res.text);
  return { ops: all.filter((f) => f.event === 'data').map((f) => f.data.ops), tail: all.filter((f) => f.event !== 'data') };
}

async function streamEvents(url: string, body: unknown): Promise<any[]> {
  const res = await rawPost(url, body);
  expect(res.status).toBe(200);
  return frames(res.text)
    .filter((f) => f.event === 'data')
    .map((f) => f.data);
}

/**
 * Debian's python3 with Debian's python3-jsonpatch, which `npm test` installs (tools/dev/ensure-deps.sh),
 * so this check always runs: the same `jsonpatch` LangServe's Python client applies patches with.
 */
const PYTHON = '/usr/bin/python3';

/**
 * Applies stream_log patches the way LangServe's Python client does (RunLog + RunLogPatch →
 * `jsonpatch.apply_patch`), with the real `jsonpatch` package.
 */
function applyWithPythonJsonpatch(patches: unknown[][]): { ok: boolean; out: string } {
  const probe = spawnSync(PYTHON, ['-c', 'import jsonpatch'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`${PYTHON} cannot import jsonpatch (${probe.stderr || probe.error}): run sh tools/dev/ensure-deps.sh --test (installs python3-jsonpatch)`);
  const script = [
    'import json, sys, jsonpatch',
    'state = None',
    'try:',
    '    for ops in json.load(sys.stdin):',
    '        state = jsonpatch.apply_patch(state, ops)',
    'except Exception as e:',
    '    print(type(e).__name__ + ": " + str(e)); sys.exit(1)',
    'print(json.dumps(state))',
  ].join('\n');
  const run = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(patches), encoding: 'utf8' });
  return { ok: run.status === 0, out: run.stdout.trim() };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('LangServe protocol parity', () => {
  let gw: TestGateway;
  const modifierCalls: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({}, {
      register: (r) => {
        r.addRoutes(RunnableLambda.from((x: number) => x + 1), { path: 'add_one' });
        r.addRoutes(
          RunnableLambda.from(async function* (_x: unknown) {
            yield 1;
            throw new Error('Error');
          }),
          { path: 'with_errors' },
        );
        const inner = RunnableSequence.from([RunnableLambda.from((x: number) => x + 1), RunnableLambda.from((x: number) => x * 2)]);
        r.addRoutes(RunnableSequence.from([inner, RunnableLambda.from((x: number) => x - 1)]), { path: 'nested' });
        // LangServe's app_for_config fixture: the runnable returns the tags and configurable it ran with.
        r.addRoutes(
          RunnableLambda.from((_x: unknown, config) => ({ tags: [...(config?.tags ?? [])].sort(), configurable: config?.configurable })),
          { path: 'return_config', configKeys: ['tags', 'metadata'] },
        );
        r.addRoutes(
          RunnableLambda.from((_x: unknown, config) => ({
            tags: config?.tags,
            metadata: config?.metadata,
            configurable: config?.configurable,
            runName: config?.runName,
          })),
          { path: 'whole_config', configKeys: ['tags', 'metadata', 'configurable'] },
        );
        r.addRoutes(RunnableLambda.from(() => 'hello'), { path: 'own_run_id', configKeys: ['run_id'] });
        r.addRoutes(RunnableLambda.from((_x: unknown, config) => config?.configurable ?? null), {
          path: 'typed_conf',
          configurableSchema: z.object({ user: z.string(), temperature: z.number().optional() }),
        });
        r.addRoutes(RunnableLambda.from((_x: unknown, config) => config?.configurable ?? null), {
          path: 'counted',
          perRequestConfigModifier: (config, req) => {
            modifierCalls.push(String(req.url));
            return { ...config, configurable: { ...config.configurable, caller: 'svc' } };
          },
        });
        r.addRoutes(
          RunnableLambda.from((kind: string) => {
            switch (kind) {
              case 'action':
                return { tool: 'search', toolInput: { q: 'weather' }, log: 'I should search' };
              case 'finish':
                return { returnValues: { output: 'sunny' }, log: 'done' };
              case 'llm_result':
                return { generations: [[{ text: 'hi', generationInfo: { finish_reason: 'stop' } }]], llmOutput: { tokenUsage: { total: 3 } } };
              case 'chat_generation':
                return { text: 'hey', message: new AIMessage('hey'), generationInfo: { finish_reason: 'stop' } };
              case 'documents':
                return [new Document({ pageContent: 'a page', metadata: { source: 's1' } })];
              default:
                return null;
            }
          }),
          { path: 'well_known' },
        );
        r.addRoutes(
          RunnableLambda.from((x: { action: { toolInput?: unknown }; finish: { returnValues?: unknown }; doc: unknown }) => ({
            toolInput: x.action.toolInput,
            returnValues: x.finish.returnValues,
            isDocument: x.doc instanceof Document,
            pageContent: (x.doc as Document).pageContent,
          })),
          { path: 'well_known_in' },
        );
      },
    });
  });
  afterAll(() => gw.close());

  describe('stream_log', () => {
    it('each chunk patch carries add /streamed_output/- and replace /final_output with the output so far (test_astream_log)', async () => {
      const { ops, tail } = await streamLogOps(`${gw.url}/add_one/stream_log`, { input: 1 });
      const id = ops[0][0].value.id;
      expect(ops).toEqual([
        [{ op: 'replace', path: '', value: { final_output: null, id, logs: {}, streamed_output: [], type: 'chain', name: '/add_one' } }],
        [
          { op: 'add', path: '/streamed_output/-', value: 2 },
          { op: 'replace', path: '/final_output', value: 2 },
        ],
      ]);
      expect(tail).toEqual([{ event: 'end' }]);
    });

    it('final_output accumulates string chunks', async () => {
      const { ops } = await streamLogOps(`${gw.url}/echo/stream_log`, { input: 'a b c' });
      expect(ops.slice(1)).toEqual([
        [{ op: 'add', path: '/streamed_output/-', value: 'a' }, { op: 'replace', path: '/final_output', value: 'a' }],
        [{ op: 'add', path: '/streamed_output/-', value: ' b' }, { op: 'replace', path: '/final_output', value: 'a b' }],
        [{ op: 'add', path: '/streamed_output/-', value: ' c' }, { op: 'replace', path: '/final_output', value: 'a b c' }],
      ]);
    });

    it('on error every op has its value (jsonpatch in the Python client rejects one without) and the error event ends the stream', async () => {
      const { ops, tail } = await streamLogOps(`${gw.url}/with_errors/stream_log`, { input: 1 });
      for (const op of ops.flat()) expect(op).toHaveProperty('value');
      expect(ops.slice(1)).toEqual([[{ op: 'add', path: '/streamed_output/-', value: 1 }, { op: 'replace', path: '/final_output', value: 1 }]]);
      expect(tail).toEqual([{ event: 'error', data: { status_code: 500, message: 'Internal Server Error' } }]);
    });

    it("LangServe's Python client (jsonpatch) applies the patches of a failed run, then sees the error event", async () => {
      const { ops, tail } = await streamLogOps(`${gw.url}/with_errors/stream_log`, { input: 1 });
      const applied = applyWithPythonJsonpatch(ops);
      expect(applied).toMatchObject({ ok: true });
      expect(JSON.parse(applied.out)).toMatchObject({ streamed_output: [1], final_output: 1, name: '/with_errors' });
      expect(tail[0].event).toBe('error');
      const nested = applyWithPythonJsonpatch((await streamLogOps(`${gw.url}/nested/stream_log`, { input: 1 })).ops)!;
      expect(nested.ok).toBe(true);
      expect(JSON.parse(nested.out)).toMatchObject({ final_output: 3, streamed_output: [3] });
    });

    it('child entries in logs carry final_output and end_time null until set', async () => {
      const { ops } = await streamLogOps(`${gw.url}/nested/stream_log`, { input: 1 });
      const adds = ops.flat().filter((op) => op.op === 'add' && /^\/logs\/[^/]+$/.test(op.path));
      expect(adds.length).toBeGreaterThanOrEqual(3);
      for (const op of adds) {
        expect(op.value).toMatchObject({ final_output: null, end_time: null, streamed_output: [], streamed_output_str: [] });
        expect(op.value.id).toMatch(UUID);
      }
      for (const op of ops.flat()) expect(op).toHaveProperty('value');
      const root = ops.flat().filter((op) => op.path === '/final_output');
      expect(root.at(-1).value).toBe(3);
    });

    it('RemoteRunnable: the rebuilt log has the output itself as final_output', async () => {
      const { RunLog, RunLogPatch } = await import('langchain-core-v03/tracers/log_stream');
      const remote = new RemoteRunnable({ url: `${gw.url}/chat` });
      const patches: InstanceType<typeof RunLogPatch>[] = [];
      for await (const patch of remote.streamLog({ input: 'log me' })) patches.push(new RunLogPatch({ ops: structuredClone(patch.ops) }));
      let log = RunLog.fromRunLogPatch(patches[0]);
      for (const p of patches.slice(1)) log = log.concat(p);
      expect(log.state.final_output).toBe('[runnel local model] You said: log me');
      expect(log.state.name).toBe('/chat');
    });
  });

  describe('run name is the route path with its slash', () => {
    it('is the runName the runnable sees, the stream_log root name and the stream_events root name', async () => {
      const res = await postJson(`${gw.url}/whole_config/invoke`, { input: 1 });
      expect(res.body.output.runName).toBe('/whole_config');
      const events = await streamEvents(`${gw.url}/add_one/stream_events`, { input: 1 });
      expect(events.map((e) => e.name)).toEqual(['/add_one', '/add_one', '/add_one']);
    });

    it('is what include_names matches', async () => {
      const events = await streamEvents(`${gw.url}/nested/stream_events`, { input: 1, include_names: ['/nested'] });
      expect(events.map((e) => e.event)).toEqual(['on_chain_start', 'on_chain_stream', 'on_chain_end']);
      const remote = new RemoteRunnable({ url: `${gw.url}/nested` });
      const names = new Set<string>();
      for await (const e of remote.streamEvents(1, { version: 'v2' }, { includeNames: ['/nested'] })) names.add(e.name);
      expect([...names]).toEqual(['/nested']);
    });
  });

  describe('SSE bytes as LangServe writes them', () => {
    it('test_server_async: stream of add_one', async () => {
      const res = await rawPost(`${gw.url}/add_one/stream`, { input: 1 });
      expect(replaceRunId(res.text)).toBe('event: metadata\r\ndata: {"run_id": "<REPLACED>"}\r\n\r\n' + 'event: data\r\ndata: 2\r\n\r\nevent: end\r\n\r\n');
      const log = await rawPost(`${gw.url}/add_one/stream_log`, { input: 1 });
      expect(log.text.startsWith('event: data\r\n')).toBe(true);
    });

    it('test_server_bound_async: c/{hash}/stream merges the hash tags with the body tags', async () => {
      const hash = encodeConfigHash({ tags: ['test'] });
      const res = await rawPost(`${gw.url}/return_config/c/${hash}/stream`, { input: 1, config: { tags: ['another-one'] } });
      expect(replaceRunId(res.text)).toBe(
        'event: metadata\r\ndata: {"run_id": "<REPLACED>"}\r\n\r\nevent: data\r\ndata: {"tags":["another-one","test"],"configurable":{}}\r\n\r\nevent: end\r\n\r\n',
      );
      const invoke = await postJson(`${gw.url}/return_config/c/${hash}/invoke`, { input: 1, config: { tags: ['another-one'] } });
      expect(invoke.body.output).toEqual({ tags: ['another-one', 'test'], configurable: {} });
      const batch = await postJson(`${gw.url}/return_config/c/${hash}/batch`, { inputs: [1], config: { tags: ['another-one'] } });
      expect(batch.body.output).toEqual([{ tags: ['another-one', 'test'], configurable: {} }]);
    });

    it('test_streaming_with_errors: the error event in json.dumps form, after the first chunk', async () => {
      const res = await rawPost(`${gw.url}/with_errors/stream`, { input: 1 });
      expect(replaceRunId(res.text)).toBe(
        'event: metadata\r\ndata: {"run_id": "<REPLACED>"}\r\n\r\n' +
          'event: data\r\ndata: 1\r\n\r\n' +
          'event: error\r\ndata: {"status_code": 500, "message": "Internal Server Error"}\r\n\r\n',
      );
    });

    it('test_server_astream_events: events of add_one', async () => {
      const events = await streamEvents(`${gw.url}/add_one/stream_events`, { input: 1 });
      for (const e of events) {
        expect(e.run_id).toMatch(UUID);
        delete e.run_id;
        delete e.metadata;
      }
      expect(events).toEqual([
        { data: { input: 1 }, event: 'on_chain_start', name: '/add_one', tags: [], parent_ids: [] },
        { data: { chunk: 2 }, event: 'on_chain_stream', name: '/add_one', tags: [], parent_ids: [] },
        { data: { output: 2 }, event: 'on_chain_end', name: '/add_one', tags: [], parent_ids: [] },
      ]);
    });
  });

  describe('stream_events parent_ids', () => {
    it('lists each ancestor run id, root first', async () => {
      const events = await streamEvents(`${gw.url}/nested/stream_events`, { input: 1 });
      const starts = events.filter((e) => e.event === 'on_chain_start');
      const root = starts[0];
      expect(root.parent_ids).toEqual([]);
      const inner = starts.find((e) => e.name === 'RunnableSequence')!;
      expect(inner.parent_ids).toEqual([root.run_id]);
      const byId = new Map(events.map((e) => [e.run_id, e.parent_ids]));
      const grandchildren = starts.filter((e) => e.tags.includes('seq:step:1') && e.name === 'RunnableLambda');
      expect(grandchildren.length).toBe(1);
      expect(grandchildren[0].parent_ids).toEqual([root.run_id, inner.run_id]);
      // Every event of a run carries the same parent_ids.
      for (const e of events) expect(e.parent_ids).toEqual(byId.get(e.run_id));
    });

    it('in a chain with a chat model (the JS RemoteRunnable drops parent_ids; the Python client keeps them)', async () => {
      const events = await streamEvents(`${gw.url}/chat/stream_events`, { input: { input: 'x' } });
      const rootId = events[0].run_id;
      expect(events[0]).toMatchObject({ name: '/chat', parent_ids: [] });
      const model = events.find((e) => e.event === 'on_chat_model_start')!;
      expect(model.parent_ids).toEqual([rootId]);
      for (const e of events.filter((e) => e.run_id !== rootId)) expect(e.parent_ids).toEqual([rootId]);
    });
  });

  describe('config merge (merge_configs)', () => {
    it('unions tags, merges metadata and configurable, and adds the LangServe metadata keys', async () => {
      const hash = encodeConfigHash({ tags: ['b', 'a'], metadata: { from: 'hash', keep: 1 }, configurable: { x: 1, y: 1 } });
      const res = await postJson(`${gw.url}/whole_config/c/${hash}/invoke`, {
        input: 1,
        config: { tags: ['c', 'a'], metadata: { from: 'body' }, configurable: { y: 2 } },
      });
      expect(res.status).toBe(200);
      const { output } = res.body;
      expect(output.tags).toEqual(['a', 'b', 'c']);
      expect(output.configurable).toEqual({ x: 1, y: 2 });
      expect(output.metadata).toMatchObject({ from: 'body', keep: 1, __langserve_version: expect.any(String), __langserve_endpoint: 'invoke' });
    });

    it('RemoteRunnable pointed at a c/{hash} URL: its config is merged with the hash config', async () => {
      const hash = encodeConfigHash({ tags: ['from-hash'], configurable: { x: 1 } });
      const remote = new RemoteRunnable({ url: `${gw.url}/whole_config/c/${hash}` });
      const out = (await remote.invoke(1, { tags: ['from-client'], configurable: { y: 2 } })) as Record<string, unknown>;
      expect(out.tags).toEqual(['from-client', 'from-hash']);
      expect(out.configurable).toEqual({ x: 1, y: 2 });
      expect(out.runName).toBe('/whole_config');
    });

    it('the run config has configurable: {} when nothing was set', async () => {
      const res = await postJson(`${gw.url}/whole_config/invoke`, { input: 1 });
      expect(res.body.output.configurable).toEqual({});
      expect(res.body.output.tags).toEqual([]);
      expect((await postJson(`${gw.url}/return_config/invoke`, { input: 1 })).body.output).toEqual({ tags: [], configurable: {} });
    });
  });

  describe('a client-set run id (config_keys=["run_id"]), as test_passing_run_id_from_client', () => {
    const id1 = '00000000-0000-0000-0000-000000000009';
    const id2 = '00000000-0000-0000-0000-00000000000e';

    it('is the run id of invoke, batch, stream and stream_events', async () => {
      expect((await postJson(`${gw.url}/own_run_id/invoke`, { input: 'x', config: { run_id: id1 } })).body.metadata.run_id).toBe(id1);
      const batch = await postJson(`${gw.url}/own_run_id/batch`, { inputs: ['a', 'b'], config: [{ run_id: id1 }, { run_id: id2 }] });
      expect(batch.body.metadata.responses.map((r: { run_id: string }) => r.run_id)).toEqual([id1, id2]);
      expect(batch.body.metadata.run_ids).toEqual([id1, id2]);
      // One config object: its run id goes to the first input only (LangChain's get_config_list).
      const one = await postJson(`${gw.url}/own_run_id/batch`, { inputs: ['a', 'b'], config: { run_id: id1 } });
      expect(one.body.metadata.run_ids[0]).toBe(id1);
      expect(one.body.metadata.run_ids[1]).not.toBe(id1);
      const stream = frames((await rawPost(`${gw.url}/own_run_id/stream`, { input: 'x', config: { run_id: id1 } })).text);
      expect(stream[0]).toEqual({ event: 'metadata', data: { run_id: id1 } });
      const events = await streamEvents(`${gw.url}/own_run_id/stream_events`, { input: 'x', config: { run_id: id1 } });
      expect(events[0].run_id).toBe(id1);
    });

    it('must be a UUID (422), and is ignored where the route does not allow it', async () => {
      const bad = await postJson(`${gw.url}/own_run_id/invoke`, { input: 'x', config: { run_id: 'nope' } });
      expect(bad.status).toBe(422);
      expect(bad.body.detail).toMatch(/config\.run_id/);
      expect((await postJson(`${gw.url}/add_one/invoke`, { input: 1, config: { run_id: id1 } })).body.metadata.run_id).not.toBe(id1);
    });
  });

  describe('batch with one config object', () => {
    it('runs the per-request modifier once, not per input', async () => {
      modifierCalls.length = 0;
      const res = await postJson(`${gw.url}/counted/batch`, { inputs: [1, 2, 3], config: { configurable: { a: 1 } } });
      expect(res.status).toBe(200);
      expect(res.body.output).toEqual([1, 2, 3].map(() => ({ a: 1, caller: 'svc' })));
      expect(new Set(res.body.metadata.run_ids).size).toBe(3);
      expect(modifierCalls).toHaveLength(1);
      modifierCalls.length = 0;
      await postJson(`${gw.url}/counted/batch`, { inputs: [1, 2], config: [{}, {}] });
      expect(modifierCalls).toHaveLength(2); // one per config, as LangServe
    });
  });

  describe('configurable validation and config_schema', () => {
    it('validates the merged configurable (hash + body), 422 naming the field', async () => {
      const hash = encodeConfigHash({ configurable: { user: 'u1' } });
      const ok = await postJson(`${gw.url}/typed_conf/c/${hash}/invoke`, { input: 1, config: { configurable: { temperature: 0.5 } } });
      expect(ok.status).toBe(200);
      expect(ok.body.output).toEqual({ user: 'u1', temperature: 0.5 });
      const bad = await postJson(`${gw.url}/typed_conf/c/${hash}/invoke`, { input: 1, config: { configurable: { temperature: 'hot' } } });
      expect(bad.status).toBe(422);
      expect(bad.body.detail).toMatch(/config\.configurable\.temperature/);
    });

    it('RemoteRunnable: a configurable that fails the declared fields is a 422 naming the field', async () => {
      const remote = new RemoteRunnable({ url: `${gw.url}/typed_conf` });
      await expect(remote.invoke(1, { configurable: { user: 'u', temperature: 'hot' } })).rejects.toThrow(/^422 Error: .*config\.configurable\.temperature/);
      await expect(remote.invoke(1, { configurable: { user: 'u', temperature: 1 } })).resolves.toEqual({ user: 'u', temperature: 1 });
    });

    it('config_schema has no configurable property when the runnable declares none', async () => {
      const none = await (await fetch(`${gw.url}/add_one/config_schema`)).json();
      expect(none).toEqual({ title: expect.any(String), type: 'object', properties: {} });
      const typed = await (await fetch(`${gw.url}/typed_conf/config_schema`)).json();
      expect(typed.properties.configurable).toEqual({ $ref: '#/$defs/Configurable', default: null });
      expect(typed.$defs.Configurable).toMatchObject({ title: 'Configurable', type: 'object', properties: { user: { type: 'string' } } });
      const tags = await (await fetch(`${gw.url}/return_config/config_schema`)).json();
      expect(tags.properties.tags).toEqual({ default: null, items: { type: 'string' }, title: 'Tags', type: 'array' });
      expect(tags.properties.configurable).toBeUndefined();
    });
  });

  describe('well-known LangChain objects', () => {
    it('go on the wire as LangServe serializes them', async () => {
      const out = async (kind: string) => (await postJson(`${gw.url}/well_known/invoke`, { input: kind })).body.output;
      expect(await out('action')).toEqual({ tool: 'search', tool_input: { q: 'weather' }, log: 'I should search', type: 'AgentAction' });
      expect(await out('finish')).toEqual({ return_values: { output: 'sunny' }, log: 'done', type: 'AgentFinish' });
      expect(await out('llm_result')).toEqual({
        generations: [[{ text: 'hi', generation_info: { finish_reason: 'stop' }, type: 'Generation' }]],
        llm_output: { tokenUsage: { total: 3 } },
        run: null,
        type: 'LLMResult',
      });
      expect(await out('chat_generation')).toMatchObject({
        text: 'hey',
        generation_info: { finish_reason: 'stop' },
        type: 'ChatGeneration',
        message: { content: 'hey', type: 'ai' },
      });
      expect(await out('documents')).toEqual([{ page_content: 'a page', metadata: { source: 's1' }, type: 'Document', id: null }]);
    });

    it("inputs in the Python client's form reach the runnable as LangChain.js objects", async () => {
      const res = await postJson(`${gw.url}/well_known_in/invoke`, {
        input: {
          action: { tool: 'search', tool_input: { q: 'x' }, log: '', type: 'AgentAction' },
          finish: { return_values: { output: 'y' }, log: '', type: 'AgentFinish' },
          doc: { page_content: 'p', metadata: {}, type: 'Document', id: null },
        },
      });
      expect(res.body.output).toEqual({ toolInput: { q: 'x' }, returnValues: { output: 'y' }, isDocument: true, pageContent: 'p' });
    });

    it('round-trip through RemoteRunnable', async () => {
      const remote = new RemoteRunnable({ url: `${gw.url}/well_known` });
      await expect(remote.invoke('action')).resolves.toEqual({ tool: 'search', toolInput: { q: 'weather' }, log: 'I should search' });
      await expect(remote.invoke('finish')).resolves.toEqual({ returnValues: { output: 'sunny' }, log: 'done' });
      const llm = (await remote.invoke('llm_result')) as { generations: unknown[][]; llmOutput: unknown };
      expect(llm.generations).toEqual([[{ text: 'hi', generationInfo: { finish_reason: 'stop' } }]]);
      expect(llm.llmOutput).toEqual({ tokenUsage: { total: 3 } });
      const gen = (await remote.invoke('chat_generation')) as { text: string; message: unknown };
      expect(gen.text).toBe('hey');
      expect(gen.message).toBeInstanceOf(AIMessageV03);
      const docs = (await remote.invoke('documents')) as DocumentV03[];
      expect(docs[0]).toBeInstanceOf(DocumentV03);
      expect(docs[0].pageContent).toBe('a page');
    });
  });
});
