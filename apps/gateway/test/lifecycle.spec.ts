import { eventually, freePort, ServiceProcess } from '@runnel/testing';

const waitForHttp = (url: string) => eventually(`${url} to answer`, async () => (await fetch(url)).ok, 15_000, 50);

/** The built gateway as operators run it: a child process, signals, exit codes. */
describe('gateway process lifecycle', () => {

  it('SIGTERM: /ready turns false, in-flight requests finish, new ones are refused, exit 0', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const svc = new ServiceProcess('gateway', {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      LOCAL_MODEL_TOKEN_DELAY_MS: '100',
      SHUTDOWN_TIMEOUT: '20',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/ready`);
      // ~8 tokens × 100 ms: still running when SIGTERM arrives.
      const inFlight = fetch(`http://127.0.0.1:${port}/chat/invoke`, {
        method: 'POST',
        body: JSON.stringify({ input: { input: 'finish me please' } }),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
      await new Promise((r) => setTimeout(r, 150));
      svc.child.kill('SIGTERM');
      // Readiness flips at once so the load balancer stops sending traffic.
      let readyStatus = 0;
      for (let i = 0; i < 50 && readyStatus !== 503; i++) {
        readyStatus = await fetch(`http://127.0.0.1:${metricsPort}/ready`).then((r) => r.status).catch(() => -1);
        if (readyStatus !== 503) await new Promise((r) => setTimeout(r, 10));
      }
      expect(readyStatus).toBe(503);
      const done = await inFlight;
      expect(done.status).toBe(200);
      expect(done.body.output).toBe('[runnel local model] You said: finish me please');
      expect(await svc.exited).toBe(0);
      const logs = svc.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutdown requested', 'shutdown complete']));
    } finally {
      svc.child.kill('SIGKILL');
    }
  });

  it('SIGTERM past SHUTDOWN_TIMEOUT cancels the stragglers and still exits', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const svc = new ServiceProcess('gateway', {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      LOCAL_MODEL_TOKEN_DELAY_MS: '2000',
      SHUTDOWN_TIMEOUT: '1',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/ready`);
      const inFlight = fetch(`http://127.0.0.1:${port}/chat/invoke`, { method: 'POST', body: '{"input":{"input":"too slow"}}' }).then((r) => r.status);
      await new Promise((r) => setTimeout(r, 150));
      svc.child.kill('SIGTERM');
      expect(await inFlight).toBe(503);
      expect(await svc.exited).toBe(0);
    } finally {
      svc.child.kill('SIGKILL');
    }
  });

  it('bad configuration: exits 1 listing every bad variable by name, without secret values', async () => {
    const svc = new ServiceProcess('gateway', {
      PORT: 'eighty',
      MAX_CONCURRENT_REQUESTS: '0',
      REQUEST_TIMEOUT: 'soon',
      OPENAI_BASE_URL: 'not-a-url',
      LOG_LEVEL: 'loud',
      OPENAI_API_KEY: 'sk-should-never-print',
    });
    expect(await svc.exited).toBe(1);
    const err = svc.stderr;
    for (const name of ['PORT', 'MAX_CONCURRENT_REQUESTS', 'REQUEST_TIMEOUT', 'OPENAI_BASE_URL', 'LOG_LEVEL']) expect(err).toMatch(new RegExp(`^  ${name}: `, 'm'));
    expect(err + svc.stdout).not.toContain('sk-should-never-print');
  });

  it('a RUNNABLES_MODULE that cannot load: exits 1 naming the variable', async () => {
    const svc = new ServiceProcess('gateway', { PORT: '0', METRICS_PORT: '0', RUNNABLES_MODULE: './does/not/exist.js' });
    expect(await svc.exited).toBe(1);
    expect(svc.stderr).toMatch(/RUNNABLES_MODULE: cannot load/);
  });

  it('a port in use: exits 1 with the reason', async () => {
    const port = await freePort();
    const first = new ServiceProcess('gateway', { PORT: String(port), METRICS_PORT: '0', HOST: '127.0.0.1' });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health`);
      const second = new ServiceProcess('gateway', { PORT: String(port), METRICS_PORT: '0', HOST: '127.0.0.1' });
      expect(await second.exited).toBe(1);
      expect(second.stderr).toMatch(/EADDRINUSE/);
    } finally {
      first.child.kill('SIGKILL');
    }
  });
});
