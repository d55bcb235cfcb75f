import type { Logger } from '@runnel/telemetry';
import type { Run } from '../agent-types';
import { loggableUrl, WebhookSender } from './webhook-sender';

const run = (webhook?: string): Run => ({
  run_id: 'r1',
  thread_id: 't1',
  assistant_id: 'a1',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:01.000Z',
  status: 'running',
  metadata: {},
  kwargs: { stream_mode: ['values'], config: {}, webhook },
  multitask_strategy: 'reject',
});

function logger(): Logger & { lines: { level: string; obj: unknown; msg: string }[] } {
  const lines: { level: string; obj: unknown; msg: string }[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => lines.push({ level, obj, msg: msg ?? String(obj) });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger & { lines: typeof lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const answer = (status: number) => new Response('x', { status });

describe('WebhookSender', () => {
  it('logs URLs without userinfo, query string or fragment', () => {
    expect(loggableUrl('https://u:p@hooks.example.com:8443/a/b?token=s#f')).toBe('https://hooks.example.com:8443/a/b');
    expect(loggableUrl('not a url ?token=s')).toBe('(not a URL)');
  });

  it('retries network errors and 5xx/429 with doubling backoff, up to the attempt limit', async () => {
    const calls: number[] = [];
    const answers = [() => Promise.reject(new TypeError('fetch failed')), () => Promise.resolve(answer(429)), () => Promise.resolve(answer(500)), () => Promise.resolve(answer(200))];
    const log = logger();
    const sender = new WebhookSender({
      logger: log,
      backoffMs: 20,
      fetch: (async () => {
        calls.push(Date.now());
        return answers[calls.length - 1]();
      }) as typeof fetch,
    });
    sender.send(run('http://h/x?secret=1'), 'success', { values: { v: 1 } });
    expect(sender.inFlight).toBe(1);
    await sender.drain(2_000);
    expect(calls).toHaveLength(4);
    expect(calls[2] - calls[1]).toBeGreaterThanOrEqual(35);
    expect(calls[3] - calls[2]).toBeGreaterThanOrEqual(75);
    expect(log.lines.at(-1)).toMatchObject({ level: 'info', msg: 'webhook sent', obj: { attempt: 4, status: 200, url: 'http://h/x' } });
    expect(JSON.stringify(log.lines)).not.toContain('secret');
  });

  it('gives up on other 4xx at once, and after the last attempt', async () => {
    let calls = 0;
    const sender = new WebhookSender({ logger: logger(), backoffMs: 1, attempts: 3, fetch: (async () => (calls++, answer(calls === 1 ? 400 : 503))) as typeof fetch });
    sender.send(run('http://h/x'), 'error', {});
    await sender.drain(1_000);
    expect(calls).toBe(1);
    const again = new WebhookSender({ logger: logger(), backoffMs: 1, attempts: 3, fetch: (async () => (calls++, answer(503))) as typeof fetch });
    again.send(run('http://h/x'), 'error', {});
    await again.drain(1_000);
    expect(calls).toBe(4);
  });

  it('posts the run with status, times, values and error', async () => {
    let body: Record<string, unknown> = {};
    const sender = new WebhookSender({
      logger: logger(),
      fetch: (async (_url: string, init: RequestInit) => ((body = JSON.parse(String(init.body))), answer(200))) as unknown as typeof fetch,
    });
    sender.send(run('http://h/x'), 'error', { values: { n: 2 }, error: 'boom' }, new Date('2026-01-01T00:00:02.000Z'));
    await sender.drain(1_000);
    expect(body).toMatchObject({
      run_id: 'r1',
      status: 'error',
      run_started_at: '2026-01-01T00:00:01.000Z',
      run_ended_at: '2026-01-01T00:00:02.000Z',
      webhook_sent_at: expect.any(String),
      values: { n: 2 },
      error: 'boom',
    });
  });

  it('never holds the caller: a hung receiver is abandoned by drain; no webhook, nothing sent; a full set drops', async () => {
    const log = logger();
    const sender = new WebhookSender({ logger: log, maxInFlight: 1, fetch: ((_u: string, init: RequestInit) => new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(new Error('aborted'))))) as unknown as typeof fetch });
    sender.send(run(), 'success', {});
    expect(sender.inFlight).toBe(0);
    sender.send(run('http://h/hang'), 'success', {});
    sender.send(run('http://h/dropped?k=s'), 'success', {});
    expect(sender.inFlight).toBe(1);
    expect(log.lines.some((l) => l.msg === 'webhook dropped: too many being sent')).toBe(true);
    const t0 = Date.now();
    await sender.drain(50);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await sleep(20);
    expect(sender.inFlight).toBe(0);
    expect(JSON.stringify(log.lines)).not.toContain('k=s');
  });
});
