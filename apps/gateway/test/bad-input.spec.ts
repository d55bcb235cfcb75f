import { connect } from 'node:net';
import { RunnableLambda } from '@langchain/core/runnables';
import LZString from 'lz-string';
import { z } from 'zod';
import { encodeConfigHash } from '../src/protocol/run-config';
import { postJson, startTestGateway, type TestGateway } from './gateway-harness';

const RUN_ENDPOINTS = ['invoke', 'batch', 'stream', 'stream_log', 'stream_events'] as const;

/**
 * Every endpoint against a corpus of bad requests: each gets a clear 4xx with a `detail`, never a
 * 5xx, and the gateway keeps serving afterwards.
 */
describe('bad input corpus', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ MAX_BODY_SIZE: '64kb', MAX_INPUT_ITEMS: '1000' }, {
      register: (r) => {
        r.addRoutes(RunnableLambda.from(async (x: { n: number }) => x.n * 2), {
          path: 'double',
          inputSchema: z.object({ n: z.number() }),
          configurableSchema: z.object({ user: z.string() }).strict(),
          disabledEndpoints: ['stream_events'],
        });
      },
    });
  });
  afterAll(() => gw.close());

  const valid = (endpoint: string) => (endpoint === 'batch' ? { inputs: [{ n: 1 }] } : { input: { n: 1 } });
  // Built as text: JSON.stringify recurses and would overflow on these.
  const deep = '['.repeat(30_000) + ']'.repeat(30_000);
  const withInput = (endpoint: string, inputJson: string, extra = '') =>
    endpoint === 'batch' ? `{"inputs":[${inputJson}]${extra}}` : `{"input":${inputJson}${extra}}`;
  const wide = `[${'0,'.repeat(1_000)}0]`;

  const corpus: [string, (endpoint: string) => string | object, RegExp][] = [
    ['malformed JSON', () => '{"input": ', /Malformed JSON/],
    ['empty body', () => '', /empty/],
    ['JSON array body', () => '[1,2]', /expected a JSON object/],
    ['JSON string body', () => '"input"', /expected a JSON object/],
    ['missing input', (e) => (e === 'batch' ? { input: 1 } : { inputs: [1] }), /body\.input/],
    ['wrong input type', (e) => (e === 'batch' ? { inputs: [{ n: 'two' }] } : { input: { n: 'two' } }), /input.*\.n/],
    ['config not an object', (e) => ({ ...valid(e), config: 'fast' }), /body\.config/],
    ['configurable wrong type', (e) => ({ ...valid(e), config: { configurable: { user: 42 } } }), /config\.configurable\.user/],
    ['configurable unknown key', (e) => ({ ...valid(e), config: { configurable: { admin: true } } }), /config\.configurable/],
    ['filters wrong type', (e) => ({ ...valid(e), include_names: 'x' }), /include_names/],
    ['30,000-deep input', (e) => withInput(e, deep), /MAX_INPUT_DEPTH \(100\)/],
    ['30,000-deep config', (e) => withInput(e, '{"n":1}', `,"config":{"configurable":{"user":${deep}}}`), /body\.config\.configurable\.user.*MAX_INPUT_DEPTH/],
    ['30,000-deep kwargs', (e) => withInput(e, '{"n":1}', `,"kwargs":${deep}`), /body\.kwargs.*MAX_INPUT_DEPTH/],
    ['1,001-item array input', (e) => withInput(e, wide), /1001 entries, more than MAX_INPUT_ITEMS \(1000\)/],
    ['1,001-key configurable', (e) => withInput(e, '{"n":1}', `,"config":{"configurable":{${Array.from({ length: 1_001 }, (_, i) => `"${i}":0`).join(',')}}}`), /MAX_INPUT_ITEMS/],
    ['a 40 kB unknown configurable key', (e) => ({ ...valid(e), config: { configurable: { ['k'.repeat(40_000)]: 1 } } }), /config\.configurable: Unrecognized key: "k{100,}…/],
  ];

  for (const endpoint of RUN_ENDPOINTS) {
    for (const [name, body, detail] of corpus) {
      if (name === 'filters wrong type' && !endpoint.startsWith('stream_')) continue;
      it(`${endpoint}: ${name} → 4xx naming the problem`, async () => {
        const res = await postJson(`${gw.url}/double/${endpoint}`, body(endpoint));
        if (endpoint === 'stream_events') {
          expect(res.status).toBe(404); // disabled for this runnable
          return;
        }
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body.detail).toMatch(detail);
        expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |RangeError/);
        expect(JSON.stringify(res.body).length).toBeLessThan(2_000);
      });
    }
  }

  it('unknown config keys are ignored, never an error', async () => {
    const res = await postJson(`${gw.url}/double/invoke`, {
      input: { n: 2 },
      config: { runName: 'x', run_name: 'y', callbacks: 'nope', recursionLimit: 'many', foo: { bar: 1 }, tags: 5 },
      kwargs: [1, 2, 3],
    });
    expect(res.status).toBe(200);
    expect(res.body.output).toBe(4);
  });

  it('batch with a config array of the wrong length → 422', async () => {
    const res = await postJson(`${gw.url}/double/batch`, { inputs: [{ n: 1 }, { n: 2 }], config: [{}] });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/1 configs for 2 inputs/);
  });

  it('huge bodies → 413 without buffering them', async () => {
    const big = JSON.stringify({ input: 'x'.repeat(200_000) });
    const res = await postJson(`${gw.url}/echo/invoke`, big);
    expect(res.status).toBe(413);
    expect(res.body.detail).toMatch(/65536 byte limit/);
  });

  it('a body over the limit without Content-Length (chunked) → 413', async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const url = new URL(gw.url);
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write('POST /echo/invoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = 'y'.repeat(16_000);
        for (let i = 0; i < 6; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      let data = '';
      socket.on('data', (d) => {
        data += d.toString();
        if (data.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(data.split('\r\n')[0]);
        }
      });
      socket.on('error', reject);
    });
    expect(status).toBe('HTTP/1.1 413 Payload Too Large');
  });

  it('a c/{hash} config nested 30,000 deep → 422 naming MAX_INPUT_DEPTH', async () => {
    const hash = LZString.compressToEncodedURIComponent(`{"configurable":{"user":${deep}}}`);
    for (const endpoint of RUN_ENDPOINTS.filter((e) => e !== 'stream_events')) {
      const res = await postJson(`${gw.url}/double/c/${hash}/${endpoint}`, valid(endpoint));
      expect({ endpoint, status: res.status }).toEqual({ endpoint, status: 422 });
      expect(res.body.detail).toMatch(/^config hash\..*MAX_INPUT_DEPTH \(100\)/);
    }
  });

  it('malformed HTTP, oversized headers and bad chunking → 4xx with a JSON detail', async () => {
    const url = new URL(gw.url);
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => socket.write(text));
        let data = '';
        socket.on('data', (d) => (data += d.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
    const cases: [string, RegExp, RegExp][] = [
      ['GARBAGE\r\n\r\n', /^HTTP\/1\.1 400 /, /Malformed HTTP request/],
      [`GET /echo/input_schema HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, /^HTTP\/1\.1 431 /, /headers too large/],
      ['POST /echo/invoke HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /^HTTP\/1\.1 400 /, /Malformed HTTP request/],
      ['POST /echo/invoke HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}', /^HTTP\/1\.1 400 /, /Malformed HTTP request/],
    ];
    for (const [request, statusLine, detail] of cases) {
      const answer = await raw(request);
      expect(answer).toMatch(statusLine);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).detail).toMatch(detail);
    }
  });

  it('bad config hash → 400 "Invalid config hash"', async () => {
    for (const hash of ['garbage!!', 'N4Ig', encodeConfigHash({}).slice(0, 3)]) {
      const res = await postJson(`${gw.url}/double/c/${hash}/invoke`, { input: { n: 1 } });
      expect(res.status).toBe(400);
      expect(res.body.detail).toBe('Invalid config hash');
    }
  });

  it('a good config hash supplies config; the body config wins', async () => {
    const echoConfig = `${gw.url}/double/c/${encodeConfigHash({ configurable: { user: 'from-hash' } })}`;
    expect((await postJson(`${echoConfig}/invoke`, { input: { n: 3 } })).body.output).toBe(6);
    const bad = await postJson(`${echoConfig}/invoke`, { input: { n: 3 }, config: { configurable: { user: 7 } } });
    expect(bad.status).toBe(422);
  });

  it('unknown runnable, unknown endpoint, disabled endpoint → 404; wrong method → 405', async () => {
    expect((await postJson(`${gw.url}/nope/invoke`, { input: 1 })).status).toBe(404);
    expect((await postJson(`${gw.url}/double/explode`, { input: 1 })).status).toBe(404);
    expect((await postJson(`${gw.url}/double/invoke/extra`, { input: 1 })).status).toBe(404);
    expect((await postJson(`${gw.url}/double/stream_events`, { input: { n: 1 } })).status).toBe(404);
    const get = await fetch(`${gw.url}/double/invoke`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await postJson(`${gw.url}/double/input_schema`, {})).status).toBe(405);
  });

  it('path oddities are 404s, not crashes', async () => {
    for (const path of ['/%E0%A4%A', '/double/%ZZ', '//invoke', '/double/c/', '/double/c', '/../etc/passwd']) {
      const res = await fetch(`${gw.url}${path}`, { method: 'POST', body: '{}' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });

  it('keeps serving after all of the above', async () => {
    const res = await postJson(`${gw.url}/double/invoke`, { input: { n: 21 } });
    expect(res.status).toBe(200);
    expect(res.body.output).toBe(42);
    const errors = gw.logs.filter((l) => l.level === 'error' || l.level === 'fatal');
    expect(errors).toEqual([]);
  });
});
