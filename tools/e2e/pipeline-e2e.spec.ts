import { verifyLake } from '@runnel/lake';
import { eventually, freePort, PipelineUnderTest, readyOf } from '@runnel/testing';

/**
 * The three built services as child processes: synthetic source → BullMQ on a real redis-server →
 * encoded objects → s3rver over HTTP; then the lake is read back and checked exactly.
 */
describe('pipeline end to end', () => {
  // Each test's pipeline on a redis-server and an s3rver of its own.
  const pipelines: PipelineUnderTest[] = [];
  afterAll(() => Promise.all(pipelines.map((p) => p.stop('SIGKILL'))));

  it('moves every synthetic event to S3 exactly once', async () => {
    const COUNT = 20_000;
    const pipeline = await PipelineUnderTest.start({
      s3Prefix: 'cdc',
      reader: { SYNTHETIC_COUNT: String(COUNT), SYNTHETIC_COLLECTIONS: 'orders,customers,products', SYNTHETIC_DOC_BYTES: '512', BATCH_SIZE: '700', BATCH_TIMEOUT_MS: '300' },
      writer: { FORMAT: 'jsonl', COMPRESSION: 'zstd' },
    });
    pipelines.push(pipeline);
    await pipeline.drained(COUNT);
    const reports = await pipeline.lake(verifyLake);
    expect(reports).toHaveLength(1); // one stream, one generation
    const [report] = reports;
    expect(report).toMatchObject({ stream: 'synthetic', events: COUNT, maxSeq: COUNT, missing: 0, duplicates: 0, badObjects: [] });
    expect(Object.keys(report.collections).sort()).toEqual(['customers', 'orders', 'products']);
  }, 120_000);

  it('a standby reader takes over within the lease TTL when the active one dies, and the lake stays exact', async () => {
    const COUNT = 12_000;
    const pipeline = await PipelineUnderTest.create({
      s3Prefix: 'takeover',
      env: { QUEUE_PREFIX: '{takeover}' },
      reader: { SYNTHETIC_COUNT: String(COUNT), SYNTHETIC_RATE: '3000', SYNTHETIC_DATABASE: 'takeover', BATCH_SIZE: '500', BATCH_TIMEOUT_MS: '200', LEASE_TTL_MS: '1000' },
      writer: { FORMAT: 'parquet', COMPRESSION: 'zstd' },
    });
    pipelines.push(pipeline);
    const portA = pipeline.port('change-reader');
    const portB = await freePort();
    const state = async (port: number) => (await readyOf(port))?.reader;
    const readerA = pipeline.startService('change-reader', { HOLDER_ID: 'reader-a' });
    await eventually('reader A to lead', async () => (await state(portA))?.state === 'reading', 20_000);
    pipeline.spawn('change-reader', { METRICS_PORT: String(portB), HOLDER_ID: 'reader-b' });
    await eventually('reader B to stand by', async () => (await state(portB))?.state === 'standby', 20_000);
    pipeline.startService('batch-writer');
    pipeline.startService('s3-uploader');
    await eventually('reader A to be part-way', async () => ((await state(portA))?.read_seq ?? 0) > 2000, 20_000);
    await readerA.stop('SIGKILL');
    await eventually('reader B to take over', async () => (await state(portB))?.state === 'reading', 10_000);
    await eventually('the checkpoint to reach every event', async () => (await state(portB))?.checkpoint_seq === COUNT, 60_000, 250);
    const reports = await pipeline.lake(verifyLake);
    expect(reports).toHaveLength(1); // the takeover went on in the same generation
    const [report] = reports;
    expect(report).toMatchObject({ stream: 'takeover', events: COUNT, maxSeq: COUNT, missing: 0, duplicates: 0, badObjects: [] });
  }, 120_000);
});
