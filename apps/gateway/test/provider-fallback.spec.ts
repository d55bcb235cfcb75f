import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '@runnel/config';
import { eventually } from '@runnel/testing';
import { GatewayConfigSchema } from '../src/config';
import { createChatModel, resolveChatProviders } from '../src/runnables/chat-model-factory';
import { shouldFallBack } from '../src/runnables/provider-fallbacks';
import { postJson, startTestGateway, type TestGateway } from './gateway-harness';
import { parseSse, type SseEvent } from './sse-events';

/**
 * `chat` across providers: the real OpenAI SDK against a loopback OpenAI-compatible server and the real
 * Anthropic SDK against a loopback Messages API server (JSON and SSE), chained with LangChain's
 * withFallbacks. No assertion depends on wall-clock durations.
 */

/** `holdAfterTokens`: send that many tokens, then hold the stream open until `dropHeld()` drops it. */
type Plan = { type: 'ok'; tokens?: string[]; holdAfterTokens?: number } | { type: 'error'; status: number } | { type: 'hang' };

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: any;
}

/** A loopback provider: answers each request from `plans` (then `fallback`) in its own wire format. */
class FakeProvider {
  readonly requests: Seen[] = [];
  readonly plans: Plan[] = [];
  fallback: Plan = { type: 'ok' };
  readonly #server: Server;
  readonly #held: { destroy(): void }[] = [];

  /** The provider dies mid-stream: every held stream's connection is dropped. */
  dropHeld(): void {
    for (const res of this.#held.splice(0)) res.destroy();
  }

  constructor(readonly kind: 'openai' | 'anthropic') {
    this.#server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      this.requests.push({ url: req.url ?? '', headers: req.headers, body });
      const plan = this.plans.shift() ?? this.fallback;
      if (plan.type === 'hang') {
        this.#held.push(res);
        return;
      }
      if (plan.type === 'error') {
        res.writeHead(plan.status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            kind === 'openai'
              ? { error: { message: `fake ${plan.status}`, type: 'fake_error', param: null, code: null } }
              : { type: 'error', error: { type: 'api_error', message: `fake ${plan.status}` } },
          ),
        );
        return;
      }
      const tokens = plan.tokens ?? (kind === 'openai' ? ['From', ' OpenAI'] : ['From', ' Anthropic']);
      const model = body?.model ?? 'unknown';
      if (body?.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            kind === 'openai'
              ? {
                  id: 'chatcmpl-1',
                  object: 'chat.completion',
                  created: 1,
                  model,
                  choices: [{ index: 0, message: { role: 'assistant', content: tokens.join('') }, finish_reason: 'stop' }],
                  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
                }
              : {
                  id: 'msg_1',
                  type: 'message',
                  role: 'assistant',
                  model,
                  content: [{ type: 'text', text: tokens.join('') }],
                  stop_reason: 'end_turn',
                  stop_sequence: null,
                  usage: { input_tokens: 1, output_tokens: 1 },
                },
          ),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const sse = (event: string, data: unknown) => res.write(kind === 'openai' ? `data: ${JSON.stringify(data)}\n\n` : `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (kind === 'anthropic') {
        sse('message_start', {
          type: 'message_start',
          message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } },
        });
        sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      }
      for (const [i, t] of tokens.entries()) {
        if (plan.holdAfterTokens !== undefined && i >= plan.holdAfterTokens) {
          this.#held.push(res);
          return;
        }
        if (kind === 'openai')
          sse('', { id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: t } : { content: t }, finish_reason: null }] });
        else sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } });
      }
      if (kind === 'openai') {
        sse('', { id: 'c1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
        res.end('data: [DONE]\n\n');
      } else {
        sse('content_block_stop', { type: 'content_block_stop', index: 0 });
        sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: tokens.length } });
        sse('message_stop', { type: 'message_stop' });
        res.end();
      }
    });
  }

  plan(...plans: Plan[]): this {
    this.plans.push(...plans);
    return this;
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.dropHeld();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }
}

const cleanups: (() => Promise<void>)[] = [];
const savedAnthropicUrl = process.env.ANTHROPIC_BASE_URL;

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  if (savedAnthropicUrl === undefined) delete process.env.ANTHROPIC_BASE_URL;
  else process.env.ANTHROPIC_BASE_URL = savedAnthropicUrl;
});

interface Setup {
  openai: FakeProvider;
  anthropic: FakeProvider;
  gw: TestGateway;
}

async function setup(env: Record<string, string> = {}): Promise<Setup> {
  const openai = new FakeProvider('openai');
  const anthropic = new FakeProvider('anthropic');
  const openaiUrl = await openai.listen();
  cleanups.push(() => openai.close());
  const anthropicUrl = await anthropic.listen();
  cleanups.push(() => anthropic.close());
  // The Anthropic SDK (through ChatAnthropic) takes its base URL from the environment when built.
  process.env.ANTHROPIC_BASE_URL = anthropicUrl;
  const gw = await startTestGateway({
    OPENAI_API_KEY: 'sk-openai-test',
    OPENAI_BASE_URL: `${openaiUrl}/v1`,
    OPENAI_MODEL: 'gpt-test',
    ANTHROPIC_API_KEY: 'sk-ant-test',
    ANTHROPIC_MODEL: 'claude-test',
    MAX_RETRIES: '2',
    RETRY_BACKOFF_MS: '1',
    LLM_TIMEOUT: '5',
    REQUEST_TIMEOUT: '20',
    SHUTDOWN_TIMEOUT: '1',
    STREAM_PING_INTERVAL: '0',
    ...env,
  });
  cleanups.push(() => gw.close());
  return { openai, anthropic, gw };
}


async function chatStream(gw: TestGateway, input = 'hi'): Promise<{ status: number; events: SseEvent[]; text: string }> {
  const res = await fetch(`${gw.url}/chat/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: { input } }) });
  const events = parseSse(await res.text());
  const text = events
    .filter((e) => e.event === 'data')
    .map((e) => JSON.parse(e.data!) as string)
    .join('');
  return { status: res.status, events, text };
}

const chatInvoke = (gw: TestGateway, input = 'hi') => postJson(`${gw.url}/chat/invoke`, { input: { input } });

async function fallbacks(gw: TestGateway, from: string, to: string): Promise<number> {
  const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('runnel_gateway_model_fallbacks_total{') && l.includes(`from="${from}"`) && l.includes(`to="${to}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('chat falls back between providers (OpenAI → Anthropic)', () => {
  it('a healthy first provider answers alone; the second is never called', async () => {
    const { openai, anthropic, gw } = await setup();
    const res = await chatInvoke(gw);
    expect(res.status).toBe(200);
    expect(res.body.output).toBe('From OpenAI');
    expect(openai.requests).toHaveLength(1);
    expect(anthropic.requests).toHaveLength(0);
    expect(await fallbacks(gw, 'openai', 'anthropic')).toBe(0);
  });

  it('invoke: 503 on every OpenAI attempt → retries spent, then Anthropic answers; the fallback is counted', async () => {
    const { openai, anthropic, gw } = await setup();
    openai.fallback = { type: 'error', status: 503 };

    const res = await chatInvoke(gw, 'hello');

    expect(res.status).toBe(200);
    expect(res.body.output).toBe('From Anthropic');
    expect(openai.requests).toHaveLength(3); // 1 + MAX_RETRIES
    expect(anthropic.requests).toHaveLength(1);
    const [req] = anthropic.requests;
    expect(req.url).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe('sk-ant-test');
    expect(req.body.model).toBe('claude-test');
    expect(req.body.messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect(await fallbacks(gw, 'openai', 'anthropic')).toBe(1);
    expect(gw.logs.some((l) => l.msg === 'chat provider failed; falling back' && l.from === 'openai' && l.to === 'anthropic' && l.status === 503)).toBe(true);
  });

  it('429 then 200 from OpenAI is a retry, not a fallback', async () => {
    const { openai, anthropic, gw } = await setup();
    openai.plan({ type: 'error', status: 429 }, { type: 'ok' });
    const res = await chatInvoke(gw);
    expect(res.body.output).toBe('From OpenAI');
    expect(openai.requests).toHaveLength(2);
    expect(anthropic.requests).toHaveLength(0);
  });

  it('stream: 429 on every OpenAI attempt → the whole answer comes from Anthropic over SSE', async () => {
    const { openai, anthropic, gw } = await setup();
    openai.fallback = { type: 'error', status: 429 };
    anthropic.plan({ type: 'ok', tokens: ['Claude', ' streams', ' here.'] });

    const res = await chatStream(gw);

    expect(res.status).toBe(200);
    expect(res.text).toBe('Claude streams here.');
    expect(res.events.filter((e) => e.event === 'data').map((e) => JSON.parse(e.data!)).filter((d) => d !== '')).toEqual(['Claude', ' streams', ' here.']);
    expect(res.events.some((e) => e.event === 'error')).toBe(false);
    expect(res.events.at(-1)?.event).toBe('end');
    expect(openai.requests).toHaveLength(3);
    expect(anthropic.requests).toHaveLength(1);
    expect(anthropic.requests[0].body.stream).toBe(true);
    expect(await fallbacks(gw, 'openai', 'anthropic')).toBe(1);
  });

  it('stream: a failure after the first chunk does not fall back (no chunks of two providers): an SSE error event', async () => {
    const { openai, anthropic, gw } = await setup();
    openai.fallback = { type: 'ok', tokens: ['partial', ' answer', ' lost'], holdAfterTokens: 1 };

    const res = await fetch(`${gw.url}/chat/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: { input: 'hi' } }) });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let raw = '';
    const texts = () => parseSse(raw).filter((e) => e.event === 'data').map((e) => JSON.parse(e.data!) as string);
    while (!texts().includes('partial')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before the first chunk: ${raw}`);
      raw += decoder.decode(value, { stream: true });
    }
    openai.dropHeld(); // OpenAI dies after the client already has its first chunk
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      raw += decoder.decode(value, { stream: true });
    }

    expect(texts().join('')).toBe('partial');
    expect(parseSse(raw).some((e) => e.event === 'error')).toBe(true);
    expect(openai.requests).toHaveLength(1);
    expect(anthropic.requests).toHaveLength(0);
    expect(await fallbacks(gw, 'openai', 'anthropic')).toBe(0);
  });

  it('401 from OpenAI (its key) falls back at once, without retries: Anthropic has its own key', async () => {
    const { openai, anthropic, gw } = await setup();
    openai.fallback = { type: 'error', status: 401 };
    const res = await chatInvoke(gw);
    expect(res.status).toBe(200);
    expect(res.body.output).toBe('From Anthropic');
    expect(openai.requests).toHaveLength(1);
    expect(anthropic.requests).toHaveLength(1);
    expect(await fallbacks(gw, 'openai', 'anthropic')).toBe(1);
  });

  it('400 from OpenAI (the request itself) does not fall back: the client gets the error, Anthropic is not called', async () => {
    const { openai, anthropic, gw } = await setup();
    openai.fallback = { type: 'error', status: 400 };
    const res = await chatInvoke(gw);
    expect(res.status).toBe(500);
    expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
    expect(openai.requests).toHaveLength(1);
    expect(anthropic.requests).toHaveLength(0);
    expect(await fallbacks(gw, 'openai', 'anthropic')).toBe(0);
  });

  it('every provider failing → the gateway error (500 with a request id), after each provider spent its retries', async () => {
    const { openai, anthropic, gw } = await setup();
    openai.fallback = { type: 'error', status: 503 };
    anthropic.fallback = { type: 'error', status: 529 };

    const res = await chatInvoke(gw);
    expect(res.status).toBe(500);
    expect(typeof res.body.request_id).toBe('string');
    expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
    expect(openai.requests).toHaveLength(3);
    expect(anthropic.requests).toHaveLength(3);

    const stream = await chatStream(gw);
    expect(stream.text).toBe('');
    expect(stream.events.some((e) => e.event === 'error')).toBe(true);
    expect(await fallbacks(gw, 'openai', 'anthropic')).toBe(2);
  });

  it('batch and stream_events fall back too', async () => {
    const { openai, anthropic, gw } = await setup({ MAX_RETRIES: '0' });
    openai.fallback = { type: 'error', status: 503 };

    const batch = await postJson(`${gw.url}/chat/batch`, { inputs: [{ input: 'one' }] });
    expect(batch.status).toBe(200);
    expect(batch.body.output).toEqual(['From Anthropic']);

    const res = await fetch(`${gw.url}/chat/stream_events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: { input: 'hi' } }) });
    const events = parseSse(await res.text());
    expect(events.some((e) => e.event === 'error')).toBe(false);
    const streamed = events
      .filter((e) => e.event === 'data')
      .map((e) => JSON.parse(e.data!))
      .filter((e) => e.event === 'on_chat_model_stream')
      .map((e) => (typeof e.data.chunk.content === 'string' ? e.data.chunk.content : (e.data.chunk.kwargs?.content ?? '')))
      .join('');
    expect(streamed).toBe('From Anthropic');
    expect(anthropic.requests).toHaveLength(2);
    expect(openai.requests).toHaveLength(2);
  });

  it('a client that disconnects while the first provider is working ends the run: no fallback', async () => {
    const { openai, anthropic, gw } = await setup({ LLM_TIMEOUT: '60' });
    openai.fallback = { type: 'hang' };
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/chat/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: { input: 'hi' } }), signal: controller.signal });
    pending.catch(() => undefined);
    await eventually('OpenAI to receive the request', () => openai.requests.length === 1, 3_000, 10);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await eventually('the run to end as cancelled', () => gw.logs.some((l) => l.msg === 'client disconnected; run cancelled'), 3_000, 10);
    expect(anthropic.requests).toHaveLength(0);
    expect(await fallbacks(gw, 'openai', 'anthropic')).toBe(0);
  });

  it('CHAT_PROVIDERS=anthropic,openai,local: the order given; local answers last', async () => {
    const { openai, anthropic, gw } = await setup({ CHAT_PROVIDERS: 'anthropic,openai,local', MAX_RETRIES: '0' });
    anthropic.fallback = { type: 'error', status: 500 };
    openai.fallback = { type: 'error', status: 502 };

    const res = await chatInvoke(gw, 'hi');

    expect(res.status).toBe(200);
    expect(res.body.output).toContain('[runnel local model]');
    expect(anthropic.requests).toHaveLength(1);
    expect(openai.requests).toHaveLength(1);
    expect(await fallbacks(gw, 'anthropic', 'openai')).toBe(1);
    expect(await fallbacks(gw, 'openai', 'local')).toBe(1);
  });

  it('CHAT_PROVIDERS=anthropic: one provider, no fallback to OpenAI although its key is set', async () => {
    const { openai, anthropic, gw } = await setup({ CHAT_PROVIDERS: 'anthropic', MAX_RETRIES: '0' });
    anthropic.fallback = { type: 'error', status: 503 };
    const res = await chatInvoke(gw);
    expect(res.status).toBe(500);
    expect(openai.requests).toHaveLength(0);
    expect(anthropic.requests).toHaveLength(1);
  });
});

describe('CHAT_PROVIDERS', () => {
  const parse = (env: Record<string, string>) => parseConfig(GatewayConfigSchema, env);

  it('parses an ordered list; unset is empty', () => {
    expect(parse({ CHAT_PROVIDERS: 'anthropic, openai' }).CHAT_PROVIDERS).toEqual(['anthropic', 'openai']);
    expect(parse({}).CHAT_PROVIDERS).toEqual([]);
  });

  it.each(['openai,gemini', 'openai,openai'])('refuses %s, naming the variable', (value) => {
    expect(() => parse({ CHAT_PROVIDERS: value })).toThrow(/CHAT_PROVIDERS: must/);
  });

  it('defaults to the providers whose keys are set, OpenAI first; local only with neither', () => {
    const key = parse({ OPENAI_API_KEY: 'k' }).OPENAI_API_KEY;
    expect(resolveChatProviders({ openaiApiKey: key, anthropicApiKey: key })).toEqual(['openai', 'anthropic']);
    expect(resolveChatProviders({ anthropicApiKey: key })).toEqual(['anthropic']);
    expect(resolveChatProviders({ openaiApiKey: key })).toEqual(['openai']);
    expect(resolveChatProviders({})).toEqual(['local']);
    expect(resolveChatProviders({ providers: [] })).toEqual(['local']);
  });

  it('a listed provider without its key is a start-up error naming both variables', () => {
    expect(() => resolveChatProviders({ providers: ['openai', 'anthropic'], openaiApiKey: parse({ OPENAI_API_KEY: 'k' }).OPENAI_API_KEY })).toThrow(
      'CHAT_PROVIDERS lists anthropic but ANTHROPIC_API_KEY is not set',
    );
  });

  it('one provider: the model itself, no fallback wrapper (today’s behaviour)', () => {
    const chat = createChatModel({ openaiModel: 'm', anthropicModel: 'a', localTokenDelayMs: 0, timeoutMs: 1000, maxRetries: 0, backoffMs: 0 });
    expect(chat.provider).toBe('local');
    expect(chat.runnable).toBe(chat.model);
  });
});

describe('shouldFallBack', () => {
  const withStatus = (status: number) => Object.assign(new Error(`status ${status}`), { status });
  it.each([408, 429, 500, 502, 503, 504, 529, 401, 403, 404])('status %i → falls back', (s) => expect(shouldFallBack(withStatus(s))).toBe(true));
  it.each([400, 413, 422])('status %i → does not', (s) => expect(shouldFallBack(withStatus(s))).toBe(false));
  it('a network failure falls back; a plain error does not', () => {
    expect(shouldFallBack(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(shouldFallBack(new Error('boom'))).toBe(false);
  });
});
