import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, ServiceProcess } from '@runnel/testing';

const waitForHttp = (url: string) => eventually(`${url} to answer`, async () => (await fetch(url)).ok, 15_000, 50);

/** OpenTelemetry on: spans exported over OTLP/HTTP to a collector, trace ids in the log lines. */
describe('tracing', () => {
  let collector: Server;
  let collectorUrl: string;
  const exports: { path: string; bytes: number }[] = [];

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        exports.push({ path: req.url ?? '', bytes });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => collector.close(() => r())));

  it('exports request spans and stamps the trace id on log lines written while serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-otel-'));
    const mod = join(dir, 'fail.cjs');
    writeFileSync(
      mod,
      `const { RunnableLambda } = require(${JSON.stringify(require.resolve('@langchain/core/runnables'))});
       exports.register = (r) => r.addRoutes(RunnableLambda.from(() => { throw new Error('traced failure'); }), { path: 'fail' });`,
    );
    const port = await freePort();
    const svc = new ServiceProcess('gateway', {
      PORT: String(port),
      METRICS_PORT: '0',
      HOST: '127.0.0.1',
      RUNNABLES_MODULE: mod,
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health`);
      const res = await fetch(`http://127.0.0.1:${port}/fail/invoke`, { method: 'POST', body: '{"input":1}' });
      expect(res.status).toBe(500);
      svc.child.kill('SIGTERM'); // shutdown flushes the span processor
      expect(await svc.exited).toBe(0);
      const failure = svc
        .stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((l) => l.msg === 'run failed');
      expect(failure.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(failure.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(exports.filter((e) => e.path === '/v1/traces' && e.bytes > 0).length).toBeGreaterThanOrEqual(1);
    } finally {
      svc.child.kill('SIGKILL');
    }
  });
});
