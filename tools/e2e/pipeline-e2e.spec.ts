import { S3Client } from '@aws-sdk/client-s3';
import { verifyLake } from '@runnel/lake';
import { eventually, freePort, RedisServer, S3Server, ServiceProcess } from '@runnel/testing';

/**
 * The three built services as child processes: synthetic source → BullMQ on a real redis-server →
 * encoded objects → s3rver over HTTP; then the lake is read back and checked exactly.
 */
describe('pipeline end to end', () => {
  let redis: RedisServer;
  let s3: S3Server;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    s3 = await S3Server.start(['lake']);
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    await s3?.stop();
    await redis?.stop();
  });

  it('moves every synthetic event to S3 exactly once', async () => {
    const COUNT = 20_000;
    const common = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', HOST: '127.0.0.1' };
    const readerPort = await freePort();
    services.push(
      new ServiceProcess('change-reader', {
        ...common,
        METRICS_PORT: String(readerPort),
        SOURCE: 'synthetic',
        SYNTHETIC_COUNT: String(COUNT),
        SYNTHETIC_COLLECTIONS: 'orders,customers,products',
        SYNTHETIC_DOC_BYTES: '512',
        BATCH_SIZE: '700',
        BATCH_TIMEOUT_MS: '300',
      }),
      new ServiceProcess('batch-writer', { ...common, METRICS_PORT: String(await freePort()), FORMAT: 'jsonl', COMPRESSION: 'zstd', S3_PREFIX: 'cdc' }),
      new ServiceProcess('s3-uploader', {
        ...common,
        METRICS_PORT: String(await freePort()),
        S3_BUCKET: 'lake',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        S3_CONDITIONAL_WRITES: 'false',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      }),
    );

    const ready = await eventually(
      'the checkpoint to reach every event',
      async () => {
        for (const s of services) if (!s.running) throw new Error(`${s.app} exited: ${s.stderr || s.stdout.slice(-2000)}`);
        const body = (await (await fetch(`http://127.0.0.1:${readerPort}/ready`)).json()) as { checks: { reader: { detail: { checkpoint_seq: number } } } };
        return body.checks.reader.detail.checkpoint_seq >= COUNT ? body : undefined;
      },
      90_000,
      250,
    );
    expect(ready.checks.reader.detail.checkpoint_seq).toBe(COUNT);

    const client = new S3Client(s3.clientConfig);
    try {
      const [report] = await verifyLake(client, 'lake', 'cdc/');
      expect(report).toMatchObject({ stream: 'synthetic', events: COUNT, maxSeq: COUNT, missing: 0, duplicates: 0, badObjects: [] });
      expect(Object.keys(report.collections).sort()).toEqual(['customers', 'orders', 'products']);
    } finally {
      client.destroy();
    }
  }, 120_000);
});
