import { Counter, Gauge } from 'prom-client';
import { createMetricsRegistry } from './metrics-registry';
import { boundPort, startOpsServer } from './ops-server';

describe('ops server', () => {
  it('serves /metrics with process metrics and the service label, extra routes, 404 and 405', async () => {
    const registry = createMetricsRegistry('svc');
    new Counter({ name: 'runnel_test_total', help: 'x', registers: [registry] }).inc(3);
    const server = await startOpsServer({
      registry,
      port: 0,
      host: '127.0.0.1',
      routes: { '/health': (_req, res) => void res.end('ok') },
    });
    const base = `http://127.0.0.1:${boundPort(server)}`;
    try {
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await metrics.text();
      expect(text).toContain('runnel_test_total{service="svc"} 3');
      expect(text).toContain('process_resident_memory_bytes{service="svc"}');
      expect(await (await fetch(`${base}/health`)).text()).toBe('ok');
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      server.close();
    }
  });

  it('runs beforeScrape first, so gauges read from elsewhere are current; a failing hook keeps the last value', async () => {
    const registry = createMetricsRegistry('svc');
    const depth = new Gauge({ name: 'runnel_test_depth', help: 'x', registers: [registry] });
    let source: number | Error = 7;
    const server = await startOpsServer({
      registry,
      port: 0,
      host: '127.0.0.1',
      beforeScrape: async () => {
        if (source instanceof Error) throw source;
        depth.set(source);
      },
    });
    const scrape = async () => (await fetch(`http://127.0.0.1:${boundPort(server)}/metrics`)).text();
    try {
      expect(await scrape()).toContain('runnel_test_depth{service="svc"} 7');
      source = 9;
      expect(await scrape()).toContain('runnel_test_depth{service="svc"} 9');
      source = new Error('redis down');
      expect(await scrape()).toContain('runnel_test_depth{service="svc"} 9');
    } finally {
      server.close();
    }
  });
});
