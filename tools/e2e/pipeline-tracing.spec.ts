import { createServer, type Server } from 'node:http';
import { freePort, type PipelineService, pipelineServiceEnv, RedisServer, ServiceProcess, waitForOk } from '@runnel/testing';

/**
 * Tracing on in a pipeline service's built bundle (the OpenTelemetry SDK parts are bundled into
 * it, not installed in its image): spans of its ops server exported over OTLP/HTTP to a collector.
 */
describe('pipeline tracing (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  let collector: Server;
  let collectorUrl: string;
  let redis: RedisServer;
  const exports: { path: string; bytes: number; type?: string }[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    collector = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        exports.push({ path: req.url ?? '', bytes, type: req.headers['content-type'] });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    collectorUrl = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  }, 30_000);
  afterAll(async () => {
    await new Promise<void>((r) => collector.close(() => r()));
    await redis?.stop();
  });

  it.each<PipelineService>(['s3-uploader', 'change-reader'])('%s exports the spans of its ops server, and stops cleanly (exit 0) flushing them', async (app) => {
    const port = await freePort();
    const before = exports.length;
    const svc = new ServiceProcess(app, {
      ...pipelineServiceEnv(app, { redisUrl: redis.url, metricsPort: port }),
      REDIS_REQUIRE_DURABLE: 'false',
      SOURCE: 'synthetic',
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      await waitForOk(`http://127.0.0.1:${port}/health`, svc, 20_000);
      for (let i = 0; i < 3; i++) await fetch(`http://127.0.0.1:${port}/health`);
      expect(await svc.stop('SIGTERM')).toBe(0); // the drain flushes the span processor
      const traces = exports.slice(before).filter((e) => e.path === '/v1/traces' && e.bytes > 0);
      expect(traces.length).toBeGreaterThanOrEqual(1);
      expect(traces[0].type).toMatch(/application\/(json|x-protobuf)/);
    } finally {
      svc.kill();
    }
  }, 60_000);
});
