import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Child } from './child';
import { PipelineUnderTest, pipelineServiceEnv, waitForPosition } from './pipeline-under-test';
import { ProcessExitedError } from './wait-for';

/** A stand-in for a process: only what the waits look at. */
const fakeChild = (running: boolean) => ({ name: 'change-reader', running, exitCode: running ? null : 1, tail: () => 'its last words' }) as unknown as Child;

describe('PipelineUnderTest', () => {
  it('writes the env every service needs once: the uploader alone gets the bucket and, on s3rver, its endpoint and test credentials', () => {
    const at = { redisUrl: 'redis://127.0.0.1:1', metricsPort: 9 };
    expect(pipelineServiceEnv('batch-writer', at)).toEqual({ REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'warn', HOST: '127.0.0.1', METRICS_PORT: '9' });
    expect(pipelineServiceEnv('s3-uploader', at)).toMatchObject({ S3_BUCKET: 'lake' });
    expect(pipelineServiceEnv('s3-uploader', at).AWS_ENDPOINT_URL_S3).toBeUndefined();
    expect(pipelineServiceEnv('s3-uploader', { ...at, redisCluster: true, s3Endpoint: 'http://127.0.0.1:2' })).toMatchObject({
      REDIS_CLUSTER: 'true', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2', S3_FORCE_PATH_STYLE: 'true', S3_CONDITIONAL_WRITES: 'false', AWS_ACCESS_KEY_ID: 'S3RVER',
    });
  });

  it("layers a service's env: the base, the run's settings, the service's own, then what one process adds", async () => {
    const p = await PipelineUnderTest.create({
      redis: { url: 'redis://127.0.0.1:1' },
      s3: { endpoint: 'http://127.0.0.1:2' },
      s3Endpoint: 'http://127.0.0.1:3',
      s3Prefix: 'p',
      env: { LOG_LEVEL: 'info', QUEUE_PREFIX: '{q}' },
      reader: { BATCH_SIZE: '5' },
      metricsPorts: 'reader',
    });
    expect(p.env('change-reader', { HOLDER_ID: 'a' })).toMatchObject({ SOURCE: 'synthetic', BATCH_SIZE: '5', LOG_LEVEL: 'info', QUEUE_PREFIX: '{q}', HOLDER_ID: 'a', METRICS_PORT: String(p.port('change-reader')) });
    expect(p.env('batch-writer')).toMatchObject({ S3_PREFIX: 'p', METRICS_PORT: '0' });
    expect(p.env('s3-uploader').AWS_ENDPOINT_URL_S3).toBe('http://127.0.0.1:3'); // the proxy; lake() reads s3rver straight
    expect(p.s3ClientConfig.endpoint).toBe('http://127.0.0.1:2');
    expect(() => p.port('batch-writer')).toThrow(/no fixed metrics port/);
    await p.stop(); // nothing started: nothing to stop
  });

  it("waitForPosition: the reader's detail once /ready reports has_position; at once a ProcessExitedError if the reader has exited", async () => {
    let polls = 0;
    const server = createServer((_req, res) => {
      polls++;
      res.writeHead(polls < 3 ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ checks: { reader: { detail: { state: 'reading', checkpoint_seq: 0, has_position: polls >= 3 } } } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      await expect(waitForPosition(port, fakeChild(true), 5000)).resolves.toMatchObject({ has_position: true });
      expect(polls).toBe(3);
      const t0 = Date.now();
      await expect(waitForPosition(port, fakeChild(false), 5000)).rejects.toThrow(ProcessExitedError);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      server.close();
    }
  });
});
