import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage } from '@langchain/core/messages';
import { eventually } from '@runnel/testing';
import { DEFAULT_SYSTEM_PROMPT } from '../src/runnables/chat-chain';
import { ResilientChatModel } from '../src/runnables/resilient-chat-model';
import { backoffDelay } from '@runnel/service';
import { isRetryable, ModelTimeoutError, retryAfterMs } from '../src/runnables/retry-policy';
import { postJson, startTestGateway, type TestGateway } from './gateway-harness';
import { parseSse, type SseEvent } from './sse-events';

/**
 * The `chat` runnable against a real OpenAI-compatible server (node:http on loopback) through the
 * real OpenAI SDK: request shape, auth header, retries, timeouts, cancellation and metrics.
 * No assertion depends on wall-clock durations; waits are polls with generous bounds.
 */

// ---------------------------------------------------------------------------------------------
// A scriptable fake of POST /v1/chat/completions
// ---------------------------------------------------------------------------------------------

type Plan =
  /** A normal answer: JSON, or SSE chunks when the request says `stream: true`. */
  | { type: 'ok'; tokens?: string[]; delayMs?: number; tokenIntervalMs?: number; dropAfterTokens?: number }
  | { type: 'error'; status: number; message?: string; headers?: Record<string, string>; delayMs?: number }
  /** Reads the request and never answers. */
  | { type: 'hang' }
  /** Reads the request and drops the connection without answering (a network failure). */
  | { type: 'reset' };

interface FakeRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: any;
  /** The client closed the connection before the response was finished. */
  closedByClient: boolean;
  /** The response was sent completely. */
  finished: boolean;
}

const DEFAULT_TOKENS = ['Hello', ' from', ' the', ' fake', ' model', '!'];
const TEST_KEY = 'sk-test-key-123';

class FakeOpenAI {
  readonly requests: FakeRequest[] = [];
  /** Consumed one per request; when empty, every request gets `fallback`. */
  readonly plans: Plan[] = [];
  fallback: Plan = { type: 'ok' };
  readonly #server: Server;
  readonly #timers = new Set<NodeJS.Timeout>();
  #seq = 0;

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  plan(...plans: Plan[]): this {
    this.plans.push(...plans);
    return this;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: FakeRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: undefined, closedByClient: false, finished: false };
    this.requests.push(record);
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        this.#timers.delete(t);
        if (!res.destroyed) fn();
      }, ms);
      timers.add(t);
      this.#timers.add(t);
    };
    res.on('finish', () => (record.finished = true));
    res.on('close', () => {
      if (!res.writableFinished) record.closedByClient = true;
      for (const t of timers) {
        clearTimeout(t);
        this.#timers.delete(t);
      }
    });

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      record.body = JSON.parse(text);
    } catch {
      record.body = text;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
      return;
    }

    const plan = this.plans.shift() ?? this.fallback;
    const id = `chatcmpl-fake-${++this.#seq}`;
    const created = Math.floor(Date.now() / 1000);
    const model = typeof record.body?.model === 'string' ? record.body.model : 'unknown';

    switch (plan.type) {
      case 'hang':
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'error':
        later(plan.delayMs ?? 0, () => {
          res.writeHead(plan.status, { 'content-type': 'application/json', ...plan.headers });
          res.end(JSON.stringify({ error: { message: plan.message ?? `fake upstream error ${plan.status}`, type: 'fake_error', param: null, code: null } }));
        });
        return;
      case 'ok': {
        const tokens = plan.tokens ?? DEFAULT_TOKENS;
        if (record.body?.stream !== true) {
          later(plan.delayMs ?? 0, () => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                id,
                object: 'chat.completion',
                created,
                model,
                choices: [{ index: 0, message: { role: 'assistant', content: tokens.join('') }, finish_reason: 'stop' }],
                usage: { prompt_tokens: 12, completion_tokens: tokens.length, total_tokens: 12 + tokens.length },
              }),
            );
          });
          return;
        }
        const chunk = (delta: Record<string, unknown>, finish: string | null) =>
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        later(plan.delayMs ?? 0, () => {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
          res.flushHeaders();
          let i = 0;
          const next = () => {
            if (plan.dropAfterTokens !== undefined && i >= plan.dropAfterTokens) {
              res.destroy(); // the provider dies mid-stream
              return;
            }
            if (i < tokens.length) {
              res.write(chunk(i === 0 ? { role: 'assistant', content: tokens[i] } : { content: tokens[i] }, null));
              i++;
              later(plan.tokenIntervalMs ?? 0, next);
              return;
            }
            res.write(chunk({}, 'stop'));
            res.end('data: [DONE]\n\n');
          };
          next();
        });
        return;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const BASE_ENV = {
  OPENAI_API_KEY: TEST_KEY,
  OPENAI_MODEL: 'test-model',
  MAX_RETRIES: '2',
  RETRY_BACKOFF_MS: '10',
  LLM_TIMEOUT: '0.5',
  REQUEST_TIMEOUT: '5',
  SHUTDOWN_TIMEOUT: '1',
  STREAM_PING_INTERVAL: '0',
};

interface Setup {
  fake: FakeOpenAI;
  gw: TestGateway;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  // Gateway first (it holds connections to the fake), then the fake.
  while (cleanups.length) await cleanups.pop()!();
});

/** A fresh fake provider and a fresh gateway pointed at it. Both are closed after the test. */
async function setup(env: Record<string, string> = {}): Promise<Setup> {
  const fake = new FakeOpenAI();
  const fakeUrl = await fake.listen();
  cleanups.push(() => fake.close());
  const gw = await startTestGateway({ ...BASE_ENV, OPENAI_BASE_URL: `${fakeUrl}/v1`, ...env });
  cleanups.push(() => gw.close());
  return { fake, gw };
}

/** Polls until `check` returns true; fails after `timeoutMs` (a generous bound, not a latency assertion). */
const waitFor = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 3_000) => eventually(what, check, timeoutMs, 20);


async function postSse(url: string, body: unknown): Promise<{ status: number; events: SseEvent[] }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, events: parseSse(await res.text()) };
}

async function scrape(gw: TestGateway): Promise<string> {
  const res = await fetch(`${gw.metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Value of the sample `name` whose labels include all of `labels` (any order, other labels allowed); undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[l[1]] = l[2];
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const llmCount = (text: string, outcome: string) =>
  sample(text, 'runnel_gateway_llm_duration_seconds_count', { provider: 'openai', model: 'test-model', outcome }) ?? 0;

const chatInvoke = (gw: TestGateway, input = 'hi') => postJson(`${gw.url}/chat/invoke`, { input: { input } });

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('chat → OpenAI-compatible provider', () => {
  it('invoke: answers with the provider content; sends model, messages and the bearer key', async () => {
    const { fake, gw } = await setup();
    fake.plan({ type: 'ok', tokens: ['The answer', ' is 42.'] });

    const res = await chatInvoke(gw, 'hi');

    expect(res.status).toBe(200);
    expect(res.body.output).toBe('The answer is 42.');
    expect(fake.requests).toHaveLength(1);
    const [req] = fake.requests;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(req.body.model).toBe('test-model');
    expect(req.body.stream).toBeFalsy();
    expect(req.body.messages).toEqual([
      { role: 'system', content: DEFAULT_SYSTEM_PROMPT },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('stream: SSE data events concatenate to the provider tokens; the provider got stream: true', async () => {
    const { fake, gw } = await setup();
    const tokens = ['Streaming', ' one', ' token', ' at', ' a', ' time.'];
    fake.plan({ type: 'ok', tokens });

    const res = await postSse(`${gw.url}/chat/stream`, { input: { input: 'stream please' } });

    expect(res.status).toBe(200);
    const data = res.events.filter((e) => e.event === 'data').map((e) => JSON.parse(e.data!) as string);
    expect(data.join('')).toBe(tokens.join(''));
    expect(data.filter((d) => d !== '')).toEqual(tokens);
    expect(res.events[0].event).toBe('metadata');
    expect(res.events.at(-1)).toEqual({ event: 'end', data: undefined });
    expect(res.events.some((e) => e.event === 'error')).toBe(false);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0].body.stream).toBe(true);
    expect(fake.requests[0].body.model).toBe('test-model');
    expect(fake.requests[0].headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  });

  it('stream: LLM_TIMEOUT bounds the silence between chunks, not the whole answer', async () => {
    // 8 tokens 150 ms apart (~1.2 s in all) with LLM_TIMEOUT 0.6 s: a healthy stream completes.
    const { fake, gw } = await setup({ LLM_TIMEOUT: '0.6', MAX_RETRIES: '0' });
    const tokens = ['a', ' b', ' c', ' d', ' e', ' f', ' g', ' h'];
    fake.plan({ type: 'ok', tokens, tokenIntervalMs: 150 });
    const res = await postSse(`${gw.url}/chat/stream`, { input: { input: 'long answer' } });
    expect(res.events.some((e) => e.event === 'error')).toBe(false);
    expect(res.events.at(-1)).toEqual({ event: 'end', data: undefined });
    const data = res.events.filter((e) => e.event === 'data').map((e) => JSON.parse(e.data!) as string);
    expect(data.join('')).toBe(tokens.join(''));
  });

  describe('retries', () => {
    it('429 (with retry-after) then 200 → succeeds after exactly 2 requests', async () => {
      const { fake, gw } = await setup();
      fake.plan({ type: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '0' } }, { type: 'ok' });

      const res = await chatInvoke(gw);

      expect(res.status).toBe(200);
      expect(res.body.output).toBe(DEFAULT_TOKENS.join(''));
      expect(fake.requests).toHaveLength(2);
    });

    it('503, 500, 200 → succeeds after exactly 3 requests', async () => {
      const { fake, gw } = await setup();
      fake.plan({ type: 'error', status: 503 }, { type: 'error', status: 500 }, { type: 'ok' });

      const res = await chatInvoke(gw);

      expect(res.status).toBe(200);
      expect(res.body.output).toBe(DEFAULT_TOKENS.join(''));
      expect(fake.requests).toHaveLength(3);
      // Every attempt is the same request.
      expect(new Set(fake.requests.map((r) => JSON.stringify(r.body))).size).toBe(1);
    });

    it('a stream is retried before its first chunk (503 then 200)', async () => {
      const { fake, gw } = await setup();
      fake.plan({ type: 'error', status: 503 }, { type: 'ok' });

      const res = await postSse(`${gw.url}/chat/stream`, { input: { input: 'hi' } });

      expect(res.status).toBe(200);
      const data = res.events.filter((e) => e.event === 'data').map((e) => JSON.parse(e.data!) as string);
      expect(data.join('')).toBe(DEFAULT_TOKENS.join(''));
      expect(res.events.at(-1)?.event).toBe('end');
      expect(fake.requests).toHaveLength(2);
      expect(fake.requests.every((r) => r.body.stream === true)).toBe(true);
    });

    it('a stream that fails after its first chunk is not retried: the client gets an SSE error event', async () => {
      const { fake, gw } = await setup();
      fake.plan({ type: 'ok', dropAfterTokens: 2 });

      const res = await postSse(`${gw.url}/chat/stream`, { input: { input: 'hi' } });

      expect(res.status).toBe(200);
      const data = res.events.filter((e) => e.event === 'data').map((e) => JSON.parse(e.data!) as string);
      expect(data.join('')).toBe(DEFAULT_TOKENS.slice(0, 2).join(''));
      expect(res.events.at(-1)?.event).toBe('error');
      expect(JSON.parse(res.events.at(-1)!.data!)).toEqual({ status_code: 500, message: 'Internal Server Error' });
      expect(res.events.some((e) => e.event === 'end')).toBe(false);
      expect(fake.requests).toHaveLength(1);
    });

    it.each([
      [400, "FAKE-UPSTREAM-DETAIL: Invalid value for 'messages'"],
      [401, 'FAKE-UPSTREAM-DETAIL: Incorrect API key provided: sk-tes********-123.'],
      // A proxy that echoes the whole key: scrubbed from the logged error too.
      [401, `FAKE-UPSTREAM-DETAIL: Incorrect API key provided: ${TEST_KEY}.`],
    ])('%i is not retried; the client gets a generic 500 with no upstream detail or key', async (status, message) => {
      const { fake, gw } = await setup();
      fake.plan({ type: 'error', status, message });

      const res = await chatInvoke(gw);

      expect(fake.requests).toHaveLength(1);
      expect(res.status).toBe(500);
      expect(res.body).toEqual(expect.objectContaining({ detail: 'Internal Server Error', request_id: expect.any(String) }));
      expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
      const body = JSON.stringify(res.body);
      expect(body).not.toContain('FAKE-UPSTREAM-DETAIL');
      expect(body).not.toContain(TEST_KEY);
      // The failure is logged (with the upstream error), but the key never reaches a log line.
      await waitFor('the run failure to be logged', () => gw.logs.some((l) => l.msg === 'run failed'));
      const failure = gw.logs.find((l) => l.msg === 'run failed')!;
      expect(failure.requestId).toBe(res.body.request_id);
      expect(JSON.stringify(gw.logs)).not.toContain(TEST_KEY);
    });

    it('retries exhausted: 503 ×3 with MAX_RETRIES=2 → 3 requests, then a generic 500', async () => {
      const { fake, gw } = await setup({ MAX_RETRIES: '2' });
      fake.fallback = { type: 'error', status: 503, message: 'FAKE-UPSTREAM-DETAIL: overloaded' };

      const res = await chatInvoke(gw);

      expect(res.status).toBe(500);
      expect(res.body.detail).toBe('Internal Server Error');
      expect(JSON.stringify(res.body)).not.toContain('FAKE-UPSTREAM-DETAIL');
      expect(fake.requests).toHaveLength(3);
      expect(JSON.stringify(gw.logs)).not.toContain(TEST_KEY);
    });

    it('a dropped connection (network error) then 200 → succeeds after exactly 2 requests', async () => {
      const { fake, gw } = await setup();
      fake.plan({ type: 'reset' }, { type: 'ok' });

      const res = await chatInvoke(gw);

      expect(fake.requests).toHaveLength(2);
      expect(res.status).toBe(200);
      expect(res.body.output).toBe(DEFAULT_TOKENS.join(''));
    });

    it('a stream whose connection drops before its first chunk is retried', async () => {
      const { fake, gw } = await setup();
      fake.plan({ type: 'ok', dropAfterTokens: 0 }, { type: 'ok' });

      const res = await postSse(`${gw.url}/chat/stream`, { input: { input: 'hi' } });

      expect(fake.requests).toHaveLength(2);
      expect(res.status).toBe(200);
      const data = res.events.filter((e) => e.event === 'data').map((e) => JSON.parse(e.data!) as string);
      expect(data.join('')).toBe(DEFAULT_TOKENS.join(''));
      expect(res.events.at(-1)?.event).toBe('end');
    });

    it('MAX_RETRIES=0 → a single attempt even on a retryable status', async () => {
      const { fake, gw } = await setup({ MAX_RETRIES: '0' });
      fake.plan({ type: 'error', status: 503 }, { type: 'ok' });

      const res = await chatInvoke(gw);

      expect(res.status).toBe(500);
      expect(fake.requests).toHaveLength(1);
    });

    it('per-attempt timeout: a hung first attempt is aborted (the provider sees the close) and the retry answers', async () => {
      const { fake, gw } = await setup({ LLM_TIMEOUT: '0.5', REQUEST_TIMEOUT: '10' });
      fake.plan({ type: 'hang' }, { type: 'ok', tokens: ['second', ' attempt'] });

      const res = await chatInvoke(gw);

      expect(res.status).toBe(200);
      expect(res.body.output).toBe('second attempt');
      expect(fake.requests).toHaveLength(2);
      await waitFor('the hung request to be closed by the gateway', () => fake.requests[0].closedByClient);
      expect(fake.requests[0].finished).toBe(false);
      expect(fake.requests[1].closedByClient).toBe(false);
      expect(fake.requests[1].finished).toBe(true);
    });

    it('per-attempt timeout before the first stream chunk: the hung attempt is aborted and the retry streams', async () => {
      const { fake, gw } = await setup({ LLM_TIMEOUT: '0.5', REQUEST_TIMEOUT: '10' });
      fake.plan({ type: 'hang' }, { type: 'ok' });

      const res = await postSse(`${gw.url}/chat/stream`, { input: { input: 'hi' } });

      expect(res.status).toBe(200);
      const data = res.events.filter((e) => e.event === 'data').map((e) => JSON.parse(e.data!) as string);
      expect(data.join('')).toBe(DEFAULT_TOKENS.join(''));
      expect(res.events.at(-1)?.event).toBe('end');
      expect(fake.requests).toHaveLength(2);
      await waitFor('the hung request to be closed by the gateway', () => fake.requests[0].closedByClient);
    });

    it('per-attempt timeout on every attempt → 3 requests, all aborted, then 500', async () => {
      const { fake, gw } = await setup({ LLM_TIMEOUT: '0.2', MAX_RETRIES: '2', REQUEST_TIMEOUT: '10' });
      fake.fallback = { type: 'hang' };

      const res = await chatInvoke(gw);

      expect(res.status).toBe(500);
      expect(fake.requests).toHaveLength(3);
      await waitFor('every hung request to be closed', () => fake.requests.every((r) => r.closedByClient));
    });
  });

  describe('cancellation', () => {
    // LLM_TIMEOUT and REQUEST_TIMEOUT far above the test's bounds: only the client's disconnect can
    // close the upstream request in time.
    const SLOW_ENV = { LLM_TIMEOUT: '60', REQUEST_TIMEOUT: '60', MAX_RETRIES: '2' };

    it('a client that disconnects from /chat/stream cancels the upstream stream', async () => {
      const { fake, gw } = await setup(SLOW_ENV);
      const tokens = Array.from({ length: 80 }, (_, i) => ` t${i}`); // ~8 s at 100 ms per token
      fake.plan({ type: 'ok', tokens, tokenIntervalMs: 100 });

      const controller = new AbortController();
      const res = await fetch(`${gw.url}/chat/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { input: 'talk slowly' } }),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!parseSse(text).some((e) => e.event === 'data')) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before any data event: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
      expect(JSON.parse(parseSse(text).find((e) => e.event === 'data')!.data!)).toBe(' t0');
      controller.abort();
      await reader.cancel().catch(() => undefined);

      await waitFor('the upstream stream to be closed by the gateway', () => fake.requests[0]?.closedByClient === true, 3_000);
      expect(fake.requests[0].finished).toBe(false);
      await waitFor('in_flight back to 0', async () => sample(await scrape(gw), 'runnel_gateway_in_flight') === 0);
      await waitFor('the attempt to be recorded as cancelled', async () => llmCount(await scrape(gw), 'cancelled') === 1);
      // Cancellation is not a failure to retry.
      expect(fake.requests).toHaveLength(1);
    });

    it('a client that disconnects from /chat/invoke cancels the upstream request', async () => {
      const { fake, gw } = await setup(SLOW_ENV);
      fake.plan({ type: 'ok', delayMs: 3_000 });

      const controller = new AbortController();
      const pending = fetch(`${gw.url}/chat/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { input: 'take your time' } }),
        signal: controller.signal,
      });
      pending.catch(() => undefined);
      await waitFor('the provider to receive the request', () => fake.requests.length === 1);
      controller.abort();
      await expect(pending).rejects.toThrow();

      await waitFor('the upstream request to be closed by the gateway', () => fake.requests[0].closedByClient, 2_000);
      expect(fake.requests[0].finished).toBe(false);
      await waitFor('in_flight back to 0', async () => sample(await scrape(gw), 'runnel_gateway_in_flight') === 0);
      await waitFor('the attempt to be recorded as cancelled', async () => llmCount(await scrape(gw), 'cancelled') === 1);
      expect(fake.requests).toHaveLength(1);
      expect(gw.logs.some((l) => l.msg === 'client disconnected; run cancelled')).toBe(true);
    });

    it('a client that disconnects during the retry backoff ends the run: no further attempt', async () => {
      // The largest allowed base: the backoff after the first failure is uniform in [0, 600 s], so
      // the client is gone long before it ends (a chance of ~1e-4 that it ends within 50 ms).
      const { fake, gw } = await setup({ ...SLOW_ENV, RETRY_BACKOFF_MS: '600000' });
      fake.plan({ type: 'error', status: 503 });
      fake.fallback = { type: 'hang' };

      const controller = new AbortController();
      const pending = fetch(`${gw.url}/chat/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { input: 'hi' } }),
        signal: controller.signal,
      });
      pending.catch(() => undefined);
      await waitFor('the first attempt to fail', async () => llmCount(await scrape(gw), 'error') === 1);
      controller.abort();
      await expect(pending).rejects.toThrow();

      // The run ends (rejects with the disconnect) instead of sleeping out the backoff.
      await waitFor('the run to end as cancelled', () => gw.logs.some((l) => l.msg === 'client disconnected; run cancelled'));
      expect(fake.requests).toHaveLength(1);
    });

    it('REQUEST_TIMEOUT shorter than the model → 504 and the upstream request is aborted', async () => {
      const { fake, gw } = await setup({ REQUEST_TIMEOUT: '0.3', LLM_TIMEOUT: '5', MAX_RETRIES: '2' });
      fake.fallback = { type: 'ok', delayMs: 3_000 };

      const res = await chatInvoke(gw);

      expect(res.status).toBe(504);
      expect(res.body.detail).toMatch(/request timeout of 0\.3 s/);
      expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
      await waitFor('the upstream request to be closed by the gateway', () => fake.requests[0]?.closedByClient === true, 2_000);
      expect(fake.requests[0].finished).toBe(false);
      expect(fake.requests).toHaveLength(1);
    });
  });

  describe('metrics', () => {
    it('counts LLM attempts by outcome: ok after a success, error after a failed attempt', async () => {
      const { fake, gw } = await setup();
      fake.plan({ type: 'ok' });
      expect((await chatInvoke(gw)).status).toBe(200);

      let text = await scrape(gw);
      expect(llmCount(text, 'ok')).toBe(1);
      expect(llmCount(text, 'error')).toBe(0);

      fake.plan({ type: 'error', status: 503 }, { type: 'ok' });
      expect((await chatInvoke(gw)).status).toBe(200);

      text = await scrape(gw);
      expect(llmCount(text, 'ok')).toBe(2);
      expect(llmCount(text, 'error')).toBe(1);
      expect(sample(text, 'runnel_gateway_llm_duration_seconds_sum', { provider: 'openai', model: 'test-model', outcome: 'ok' })).toBeGreaterThan(0);
      expect(sample(text, 'runnel_gateway_requests_total', { runnable: 'chat', endpoint: 'invoke', status: '200' })).toBe(2);
    });
  });
});

describe('retry policy', () => {
  describe('backoffDelay (full jitter)', () => {
    it.each([
      // attempt, base, random, expected
      [0, 100, 0, 0],
      [3, 100, 0, 0],
      [0, 100, 1, 100],
      [1, 100, 1, 200],
      [2, 100, 1, 400],
      [3, 100, 1, 800],
      [2, 100, 0.5, 200],
      [1, 10, 0.25, 5],
      [0, 0, 1, 0],
    ])('attempt %i, base %i ms, random %f → %i ms', (attempt, base, random, expected) => {
      expect(backoffDelay(attempt, base, 30_000, () => random)).toBe(expected);
    });

    it('is capped at maxMs', () => {
      expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
      expect(backoffDelay(5, 100, 1_000, () => 1)).toBe(1_000);
      expect(backoffDelay(5, 100, 1_000, () => 0.5)).toBe(500);
      expect(backoffDelay(60, 500, 30_000, () => 1)).toBe(30_000);
    });

    it('with the default random, stays within [0, min(max, base·2^attempt)]', () => {
      for (let attempt = 0; attempt < 8; attempt++) {
        for (let i = 0; i < 50; i++) {
          const d = backoffDelay(attempt, 100);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.min(30_000, 100 * 2 ** attempt));
          expect(Number.isInteger(d)).toBe(true);
        }
      }
    });
  });

  describe('retryAfterMs', () => {
    const withHeaders = (headers: unknown) => Object.assign(new Error('429'), { status: 429, headers });
    it.each<[string, unknown, number | undefined]>([
      ['seconds in a Headers object', new Headers({ 'retry-after': '2' }), 2000],
      ['seconds in a plain object', { 'retry-after': '0.5' }, 500],
      ['an HTTP date', { 'retry-after': new Date(1_000_000 + 3000).toUTCString() }, 3000],
      ['capped at 60 s', { 'retry-after': '3600' }, 60_000],
      ['absent', {}, undefined],
      ['garbage', { 'retry-after': 'soon' }, undefined],
      ['no headers at all', undefined, undefined],
    ])('%s', (_name, headers, expected) => {
      const got = retryAfterMs(withHeaders(headers), 1_000_000);
      expect(got).toBe(expected);
    });
  });

  describe('isRetryable', () => {
    const withStatus = (status: number) => Object.assign(new Error(`status ${status}`), { status });
    const named = (name: string, message = name) => Object.assign(new Error(message), { name });

    it.each([408, 409, 425, 429, 500, 502, 503, 504, 529])('status %i → retryable', (status) => {
      expect(isRetryable(withStatus(status))).toBe(true);
    });

    it.each([400, 401, 403, 404, 413, 422])('status %i → not retryable', (status) => {
      expect(isRetryable(withStatus(status))).toBe(false);
    });

    it.each<[string, boolean, unknown]>([
      ['per-attempt timeout', true, new ModelTimeoutError(500)],
      ['status on response', true, { response: { status: 503 } }],
      ['statusCode', true, { statusCode: 502 }],
      ['4xx on response', false, { response: { status: 400 } }],
      ['ECONNRESET', true, Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
      ['ECONNREFUSED as cause', true, Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })],
      ['undici socket error as cause', true, Object.assign(new Error('terminated'), { cause: { code: 'UND_ERR_SOCKET' } })],
      ['fetch failed', true, new TypeError('fetch failed')],
      [
        // What the OpenAI SDK really throws when the socket drops: name "Error", no status or code on top.
        'SDK connection error wrapping fetch failed wrapping a socket error',
        true,
        Object.assign(new Error('Connection error.'), {
          cause: Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }),
        }),
      ],
      ['connection error recognised by class name', true, new (class APIConnectionError extends Error {})('Connection error.')],
      ['a non-retryable cause chain', false, Object.assign(new Error('outer'), { cause: Object.assign(new Error('inner'), { code: 'ENOENT' }) })],
      ['OpenAI SDK connection error', true, named('APIConnectionError', 'Connection error.')],
      ['OpenAI SDK connection timeout', true, named('APIConnectionTimeoutError', 'Request timed out.')],
      ['caller abort', false, named('AbortError', 'This operation was aborted')],
      ['unknown code', false, Object.assign(new Error('nope'), { code: 'ENOENT' })],
      ['plain error', false, new Error('boom')],
      ['a status wins over a code', false, Object.assign(new Error('bad'), { status: 400, code: 'ECONNRESET' })],
      ['undefined', false, undefined],
      ['null', false, null],
      ['a string', false, 'ECONNRESET'],
    ])('%s → %s', (_label, expected, err) => {
      expect(isRetryable(err)).toBe(expected);
    });
  });
});

// Called directly, without LangChain's own race of the run against the signal, which would hide a
// backoff that ignores the abort (the gateway would answer, but the retry loop would sleep on).
describe('ResilientChatModel', () => {
  it('an abort during the backoff rejects at once with the abort reason; no further attempt', async () => {
    let calls = 0;
    const inner = {
      _generate: async () => {
        calls++;
        throw Object.assign(new Error('overloaded'), { status: 503 });
      },
    } as unknown as BaseChatModel;
    // Backoff uniform in [0, 600 s]: only a working abort ends the wait within the test.
    const model = new ResilientChatModel({ inner, provider: 'openai', model: 'm', timeoutMs: 10_000, maxRetries: 2, backoffMs: 600_000 });
    const controller = new AbortController();
    const run = model._generate([new HumanMessage('hi')], { signal: controller.signal } as ResilientChatModel['ParsedCallOptions']);
    run.catch(() => undefined);
    await waitFor('the first attempt', () => calls === 1);
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(calls).toBe(1);
  });
});
