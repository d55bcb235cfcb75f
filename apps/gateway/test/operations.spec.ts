import { RunnableLambda } from '@langchain/core/runnables';
import { eventually } from '@runnel/testing';
import { postJson, startTestGateway, type TestGateway } from './gateway-harness';

function waitForAbort(ms: number) {
  return RunnableLambda.from(async (x: unknown, config) => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      config?.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      });
    });
    return x;
  });
}

/** The value of one sample: `name` with at least the given labels (the registry adds service="gateway"). */
async function metric(gw: TestGateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

const until = (check: () => Promise<boolean> | boolean, timeoutMs = 5_000) => eventually('the condition', check, timeoutMs, 20);

describe('API key auth', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ GATEWAY_API_KEYS: 'key-one-1234,key-two-5678' });
  });
  afterAll(() => gw.close());

  it('refuses runnable routes without a key (401 with detail and WWW-Authenticate)', async () => {
    for (const [method, path] of [
      ['POST', '/echo/invoke'],
      ['POST', '/echo/batch'],
      ['POST', '/echo/stream'],
      ['POST', '/echo/stream_log'],
      ['POST', '/echo/stream_events'],
      ['GET', '/echo/input_schema'],
      ['GET', '/echo/config_schema'],
    ]) {
      const res = await fetch(`${gw.url}${path}`, { method, body: method === 'POST' ? '{"input":1}' : undefined });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect((await res.json()).detail).toMatch(/Missing credentials/);
    }
  });

  it('refuses a wrong key, accepts either key by Bearer or X-API-Key', async () => {
    expect((await postJson(`${gw.url}/echo/invoke`, { input: 1 }, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await postJson(`${gw.url}/echo/invoke`, { input: 1 }, { 'x-api-key': 'key-one-123' })).status).toBe(401);
    expect((await postJson(`${gw.url}/echo/invoke`, { input: 1 }, { authorization: 'Bearer key-one-1234' })).status).toBe(200);
    expect((await postJson(`${gw.url}/echo/invoke`, { input: 1 }, { 'x-api-key': 'key-two-5678' })).status).toBe(200);
  });

  it('leaves health, readiness and the playground page open', async () => {
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
    expect((await fetch(`${gw.url}/ready`)).status).toBe(200);
    expect((await fetch(`${gw.url}/echo/playground`)).status).toBe(200);
  });

  it('never logs the keys', () => {
    expect(gw.logs.length).toBeGreaterThan(0); // the requests above were logged: there is something to search
    const text = JSON.stringify(gw.logs);
    expect(text).not.toContain('key-one-1234');
    expect(text).not.toContain('key-two-5678');
  });
});

describe('CORS allow-list', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(() => gw.close());

  it('answers preflight for an allowed origin and refuses others', async () => {
    const ok = await fetch(`${gw.url}/echo/invoke`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const bad = await fetch(`${gw.url}/echo/invoke`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sets the allow-origin header on actual requests only for allowed origins', async () => {
    const ok = await postJson(`${gw.url}/echo/invoke`, { input: 1 }, { origin: 'https://app.example.com' });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await postJson(`${gw.url}/echo/invoke`, { input: 1 }, { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('admission, timeouts and cancellation', () => {
  let gw: TestGateway;
  let aborted = 0;
  beforeAll(async () => {
    gw = await startTestGateway({ MAX_CONCURRENT_REQUESTS: '2', REQUEST_TIMEOUT: '1' }, {
      register: (r) => {
        r.addRoutes(waitForAbort(400), { path: 'slow' });
        r.addRoutes(waitForAbort(5_000), { path: 'slower' });
        r.addRoutes(
          RunnableLambda.from(async (_x: unknown, config) => {
            await new Promise<void>((resolve) => config?.signal?.addEventListener('abort', () => resolve()));
            aborted++;
            return null;
          }),
          { path: 'until_cancelled' },
        );
      },
    });
  });
  afterAll(() => gw.close());

  it('answers 503 with Retry-After beyond MAX_CONCURRENT_REQUESTS, never queueing', async () => {
    const running = [postJson(`${gw.url}/slow/invoke`, { input: 1 }), postJson(`${gw.url}/slow/invoke`, { input: 2 })];
    await until(async () => (await metric(gw, 'runnel_gateway_in_flight')) === 2);
    const refused = await postJson(`${gw.url}/slow/invoke`, { input: 3 });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.detail).toMatch(/limit of 2 concurrent/);
    expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
    expect((await postJson(`${gw.url}/slow/invoke`, { input: 4 })).status).toBe(200);
  });

  it('REQUEST_TIMEOUT: 504 with detail, and the run is aborted', async () => {
    const res = await postJson(`${gw.url}/slower/invoke`, { input: 1 });
    expect(res.status).toBe(504);
    expect(res.body.detail).toMatch(/request timeout of 1 s/);
    expect(await metric(gw, 'runnel_gateway_errors_total', { type: 'timeout', endpoint: 'invoke' })).toBeGreaterThanOrEqual(1);
  });

  it('REQUEST_TIMEOUT inside a stream: an error event with status 504, in json.dumps form, and no end', async () => {
    const res = await fetch(`${gw.url}/slower/stream`, { method: 'POST', body: '{"input":1}' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^event: metadata\r\ndata: \{"run_id": "[0-9a-f-]{36}"\}\r\n\r\n/);
    expect(text.endsWith('event: error\r\ndata: {"status_code": 504, "message": "Gateway Timeout"}\r\n\r\n')).toBe(true);
    expect(text).not.toContain('event: end');
  });

  it('a client that disconnects aborts its run (the runnable sees the AbortSignal)', async () => {
    const before = aborted;
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/until_cancelled/invoke`, { method: 'POST', body: '{"input":1}', signal: controller.signal }).catch(() => 'aborted');
    await until(async () => (await metric(gw, 'runnel_gateway_in_flight')) === 1);
    controller.abort();
    expect(await pending).toBe('aborted');
    await until(() => aborted === before + 1);
    await until(async () => (await metric(gw, 'runnel_gateway_in_flight')) === 0);
    expect(await metric(gw, 'runnel_gateway_requests_total', { runnable: 'until_cancelled', endpoint: 'invoke', status: '499' })).toBe(1);
  });

  it('a streaming client that disconnects aborts its run too', async () => {
    const before = aborted;
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/until_cancelled/stream`, { method: 'POST', body: '{"input":1}', signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read(); // metadata
    controller.abort();
    await until(() => aborted === before + 1);
    await until(async () => (await metric(gw, 'runnel_gateway_open_streams')) === 0);
  });
});

describe('metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  it('exports the gateway metrics with their labels, plus process metrics', async () => {
    await postJson(`${gw.url}/echo/invoke`, { input: 'x' });
    await postJson(`${gw.url}/echo/batch`, { inputs: [1, 2, 3] });
    await fetch(`${gw.url}/echo/stream`, { method: 'POST', body: '{"input":"a b c"}' }).then((r) => r.text());
    await postJson(`${gw.url}/echo/invoke`, '{bad');
    const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
    for (const name of [
      '# TYPE runnel_gateway_requests_total counter',
      '# TYPE runnel_gateway_request_duration_seconds histogram',
      '# TYPE runnel_gateway_batch_size histogram',
      '# TYPE runnel_gateway_stream_chunks histogram',
      '# TYPE runnel_gateway_errors_total counter',
      '# TYPE runnel_gateway_in_flight gauge',
      '# TYPE runnel_gateway_llm_duration_seconds histogram',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(name);
    }
    expect(await metric(gw, 'runnel_gateway_requests_total', { runnable: 'echo', endpoint: 'invoke', status: '200' })).toBe(1);
    expect(await metric(gw, 'runnel_gateway_requests_total', { runnable: 'echo', endpoint: 'invoke', status: '422' })).toBe(1);
    expect(await metric(gw, 'runnel_gateway_errors_total', { type: 'validation', endpoint: 'invoke' })).toBe(1);
    expect(await metric(gw, 'runnel_gateway_request_duration_seconds_count', { runnable: 'echo', endpoint: 'batch' })).toBe(1);
    expect(await metric(gw, 'runnel_gateway_batch_size_sum', { runnable: 'echo' })).toBe(3);
    expect(await metric(gw, 'runnel_gateway_stream_chunks_sum', { runnable: 'echo', endpoint: 'stream' })).toBe(3);
  });

  it('/ready reports dependency state as JSON', async () => {
    const res = await fetch(`${gw.metricsUrl}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { http: { ok: true }, runnables: { ok: true, detail: ['echo', 'chat'] } } });
  });

  it('500s carry a request id and the log line has the full error under the same id', async () => {
    const gw2 = await startTestGateway({}, {
      register: (r) =>
        r.addRoutes(
          RunnableLambda.from(async () => {
            throw new Error('connection string postgres://u:pw@db');
          }),
          { path: 'bad' },
        ),
    });
    try {
      const res = await postJson(`${gw2.url}/bad/invoke`, { input: 1 }, { 'x-request-id': 'req-abc-123' });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ detail: 'Internal Server Error', message: 'Internal Server Error', request_id: 'req-abc-123' });
      expect(res.headers.get('x-request-id')).toBe('req-abc-123');
      const line = gw2.logs.find((l) => l.requestId === 'req-abc-123');
      expect((line?.err as { message: string }).message).toContain('postgres://u:pw@db');
    } finally {
      await gw2.close();
    }
  });
});
