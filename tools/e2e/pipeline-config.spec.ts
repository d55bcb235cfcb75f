import { eventually, RedisServer, ServiceProcess } from '@runnel/testing';

/** Start-up refusals: bad configuration names each variable and exits 1; an unsafe Redis is refused. */
describe('pipeline services refuse bad configuration', () => {
  it.each([
    ['change-reader', { BATCH_SIZE: '0', ON_HISTORY_LOST: 'ignore', PIPELINE: '{"not":"an array"}', QUEUE_PREFIX: 'no-hash-tag', MONGODB_URI: 'mongodb://user:s3cret-pw@host/db', CHANNEL_BUFFER_SIZE: 'lots' }, ['BATCH_SIZE', 'ON_HISTORY_LOST', 'PIPELINE', 'QUEUE_PREFIX', 'CHANNEL_BUFFER_SIZE']],
    ['batch-writer', { FORMAT: 'xml', COMPRESSION: 'lz4', KEY_STRATEGY: 'random', NUM_WORKERS: '-1', REDIS_URL: 'not a url' }, ['FORMAT', 'COMPRESSION', 'KEY_STRATEGY', 'NUM_WORKERS', 'REDIS_URL']],
    ['s3-uploader', { MULTIPART_THRESHOLD: 'huge', S3_FORCE_PATH_STYLE: 'maybe', AWS_ENDPOINT_URL_S3: 'minio:9000', AWS_SECRET_ACCESS_KEY: 'very-secret-key-value' }, ['S3_BUCKET', 'MULTIPART_THRESHOLD', 'S3_FORCE_PATH_STYLE', 'AWS_ENDPOINT_URL_S3']],
  ] as const)('%s: exits 1 listing every bad variable, without secret values', async (app, env, names) => {
    const svc = new ServiceProcess(app, { ...env, METRICS_PORT: '0' });
    expect(await svc.exited).toBe(1);
    for (const name of names) expect(svc.stderr).toMatch(new RegExp(`^  ${name}: `, 'm'));
    expect(svc.stderr + svc.stdout).not.toMatch(/s3cret-pw|very-secret-key-value/);
  });

  it('a service refusing its configuration ends every time (process.exit hung in about 1 start in 5: V8 workers waiting for a GC)', async () => {
    const within = (p: Promise<number | string | null>) => Promise.race([p, new Promise<string>((r) => setTimeout(() => r('still running after 8 s'), 8_000).unref())]);
    for (let i = 0; i < 12; i++) {
      const svc = new ServiceProcess('s3-uploader', { S3_FORCE_PATH_STYLE: 'maybe', METRICS_PORT: '0' });
      const outcome = await within(svc.exited);
      if (outcome !== 1) await svc.stop('SIGKILL').catch(() => undefined);
      expect(outcome).toBe(1);
    }
  }, 120_000);

  it('refuses a Redis without AOF and with eviction, naming both, unless REDIS_REQUIRE_DURABLE=false', async () => {
    const redis = await RedisServer.start({ durable: false });
    try {
      const refused = new ServiceProcess('batch-writer', { REDIS_URL: redis.url, METRICS_PORT: '0', HOST: '127.0.0.1' });
      expect(await refused.exited).toBe(1);
      expect(refused.stderr).toMatch(/appendonly is "no"/);
      expect(refused.stderr).toMatch(/maxmemory-policy is "allkeys-lru"/);
      const allowed = new ServiceProcess('batch-writer', { REDIS_URL: redis.url, METRICS_PORT: '0', HOST: '127.0.0.1', REDIS_REQUIRE_DURABLE: 'false' });
      try {
        await eventually('the warning', () => allowed.stdout.includes('maxmemory-policy is'), 10_000);
        expect(allowed.running).toBe(true);
        expect(allowed.stdout).toContain('appendonly is \\"no\\"'); // JSON-escaped in the log line
      } finally {
        expect(await allowed.stop()).toBe(0);
      }
    } finally {
      await redis.stop();
    }
  });
});
