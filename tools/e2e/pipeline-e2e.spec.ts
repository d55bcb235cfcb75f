import { S3Client } from '@aws-sdk/client-s3';
import { verifyLake } from '@runnel/lake';
import { eventually, freePort, RedisServer, S3Server, ServiceProcess } from '@runnel/testing';
import { PipelineUnderTest } from './pipeline-under-test';

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
    const pipeline = await PipelineUnderTest.start({
      redis: { REDIS_URL: redis.url },
      s3,
      s3Prefix: 'cdc',
      reader: { SYNTHETIC_COUNT: String(COUNT), SYNTHETIC_COLLECTIONS: 'orders,customers,products', SYNTHETIC_DOC_BYTES: '512', BATCH_SIZE: '700', BATCH_TIMEOUT_MS: '300' },
      writer: { FORMAT: 'jsonl', COMPRESSION: 'zstd' },
    });
    services.push(...pipeline.services);
    await pipeline.drained(COUNT);
    const reports = await pipeline.lake();
    expect(reports).toHaveLength(1); // one stream, one generation
    const [report] = reports;
    expect(report).toMatchObject({ stream: 'synthetic', events: COUNT, maxSeq: COUNT, missing: 0, duplicates: 0, badObjects: [] });
    expect(Object.keys(report.collections).sort()).toEqual(['customers', 'orders', 'products']);
  }, 120_000);

  it('a standby reader takes over within the lease TTL when the active one dies, and the lake stays exact', async () => {
    const COUNT = 12_000;
    const prefix = '{takeover}';
    const common = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', HOST: '127.0.0.1', QUEUE_PREFIX: prefix };
    const readerEnv = {
      ...common, SOURCE: 'synthetic', SYNTHETIC_COUNT: String(COUNT), SYNTHETIC_RATE: '3000', SYNTHETIC_DATABASE: 'takeover',
      BATCH_SIZE: '500', BATCH_TIMEOUT_MS: '200', LEASE_TTL_MS: '1000',
    };
    const portA = await freePort();
    const portB = await freePort();
    const readerA = new ServiceProcess('change-reader', { ...readerEnv, METRICS_PORT: String(portA), HOLDER_ID: 'reader-a' });
    services.push(readerA);
    const state = async (port: number) =>
      ((await (await fetch(`http://127.0.0.1:${port}/ready`)).json()) as { checks: { reader: { detail: { state: string; checkpoint_seq: number | null; read_seq: number } } } }).checks.reader.detail;
    await eventually('reader A to lead', async () => (await state(portA)).state === 'reading', 20_000);
    const readerB = new ServiceProcess('change-reader', { ...readerEnv, METRICS_PORT: String(portB), HOLDER_ID: 'reader-b' });
    services.push(readerB);
    await eventually('reader B to stand by', async () => (await state(portB)).state === 'standby', 20_000);
    services.push(
      new ServiceProcess('batch-writer', { ...common, METRICS_PORT: String(await freePort()), FORMAT: 'parquet', COMPRESSION: 'zstd', S3_PREFIX: 'takeover' }),
      new ServiceProcess('s3-uploader', {
        ...common, METRICS_PORT: String(await freePort()), S3_BUCKET: 'lake', AWS_ENDPOINT_URL_S3: s3.endpoint, S3_FORCE_PATH_STYLE: 'true',
        S3_CONDITIONAL_WRITES: 'false', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      }),
    );
    await eventually('reader A to be part-way', async () => (await state(portA)).read_seq > 2000, 20_000);
    await readerA.stop('SIGKILL');
    await eventually('reader B to take over', async () => (await state(portB)).state === 'reading', 10_000);
    await eventually('the checkpoint to reach every event', async () => (await state(portB)).checkpoint_seq === COUNT, 60_000, 250);
    const client = new S3Client(s3.clientConfig);
    try {
      const reports = await verifyLake(client, 'lake', 'takeover/');
      expect(reports).toHaveLength(1); // the takeover went on in the same generation
      const [report] = reports;
      expect(report).toMatchObject({ stream: 'takeover', events: COUNT, maxSeq: COUNT, missing: 0, duplicates: 0, badObjects: [] });
    } finally {
      client.destroy();
    }
  }, 120_000);
});
