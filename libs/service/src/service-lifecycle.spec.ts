import { createServer, type Server } from 'node:http';
import { createLogCapture, createLogger } from '@runnel/telemetry';
import { ServiceLifecycle } from './service-lifecycle';

function quietLogger() {
  const { destination, lines } = createLogCapture();
  return { logger: createLogger({ service: 'test', destination }), lines };
}

async function serve(lifecycle: ServiceLifecycle): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/ready') void lifecycle.readyHandler(req, res);
    else lifecycle.healthHandler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

describe('ServiceLifecycle', () => {
  it('is not ready before start, ready when every check passes, not ready when one fails', async () => {
    const { logger } = quietLogger();
    let redisUp = true;
    const lc = new ServiceLifecycle({ name: 'svc', logger, shutdownTimeoutMs: 1000, handleProcessEvents: false, exit: () => undefined });
    lc.addReadinessCheck('redis', () => ({ ok: redisUp, detail: redisUp ? 'PONG' : 'connection refused' }));
    lc.addReadinessCheck('throws', () => {
      throw new Error('boom');
    });
    expect((await lc.readiness()).status).toBe('not_ready');
    lc.start();
    let report = await lc.readiness();
    expect(report.status).toBe('not_ready');
    expect(report.checks.throws).toEqual({ ok: false, detail: 'boom' });
    lc.addReadinessCheck('throws', () => true);
    report = await lc.readiness();
    expect(report.status).toBe('ready');
    redisUp = false;
    report = await lc.readiness();
    expect(report).toMatchObject({ status: 'not_ready', checks: { redis: { ok: false, detail: 'connection refused' } } });
  });

  it('a hung check fails after its timeout instead of hanging the probe', async () => {
    const { logger } = quietLogger();
    const lc = new ServiceLifecycle({ name: 'svc', logger, shutdownTimeoutMs: 1000, checkTimeoutMs: 50, handleProcessEvents: false, exit: () => undefined });
    lc.addReadinessCheck('hangs', () => new Promise(() => undefined));
    lc.start();
    expect((await lc.readiness()).checks.hangs).toEqual({ ok: false, detail: 'check timed out after 50 ms' });
  });

  it('serves /health 200 always and /ready 503 while draining; runs shutdown steps in order, once', async () => {
    const { logger } = quietLogger();
    const exits: number[] = [];
    const order: string[] = [];
    let releaseFirst!: () => void;
    const lc = new ServiceLifecycle({ name: 'svc', logger, shutdownTimeoutMs: 5000, handleProcessEvents: false, exit: (c) => exits.push(c) });
    lc.onShutdown('stop-intake', () => new Promise<void>((r) => (releaseFirst = () => (order.push('stop-intake'), r()))));
    lc.onShutdown('close-connections', () => void order.push('close-connections'));
    lc.start();
    const { server, url } = await serve(lc);
    try {
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const first = lc.shutdown(0);
      const second = lc.shutdown(0);
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { status: string }).status).toBe('draining');
      expect((await fetch(`${url}/health`)).status).toBe(200);
      releaseFirst();
      await Promise.all([first, second]);
      expect(order).toEqual(['stop-intake', 'close-connections']);
      expect(exits).toEqual([0]);
    } finally {
      server.close();
    }
  });

  it('exits 1 when a step fails, and exits 1 when the drain outlives its bound', async () => {
    const { logger, lines } = quietLogger();
    const exits: number[] = [];
    const failing = new ServiceLifecycle({ name: 'svc', logger, shutdownTimeoutMs: 5000, handleProcessEvents: false, exit: (c) => exits.push(c) });
    failing.onShutdown('bad', () => {
      throw new Error('close failed');
    });
    await failing.shutdown(0);
    expect(exits).toEqual([1]);
    expect(lines.some((l) => l.msg === 'shutdown step failed' && l.step === 'bad')).toBe(true);

    const hung = new ServiceLifecycle({ name: 'svc', logger, shutdownTimeoutMs: 50, handleProcessEvents: false, exit: (c) => exits.push(c) });
    hung.onShutdown('never', () => new Promise(() => undefined));
    void hung.shutdown(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(exits).toEqual([1, 1]);
    expect(lines.some((l) => l.msg === 'drain timed out; exiting')).toBe(true);
  });
});
