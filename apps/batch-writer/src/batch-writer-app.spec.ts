import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseConfig } from '@runnel/config';
import { type DeadLetter, QUEUES, replayDeadLetters } from '@runnel/queue';
import { eventually, RedisServer } from '@runnel/testing';
import { startBatchWriter } from './batch-writer-app';
import { BatchWriterConfigSchema } from './config';

describe('batch-writer with a real Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server.stop());

  async function start(prefix: string) {
    const config = parseConfig(BatchWriterConfigSchema, { REDIS_URL: server.url, QUEUE_PREFIX: prefix, METRICS_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', MAX_RETRIES: '0' });
    return startBatchWriter(config, { handleProcessEvents: false, exit: () => undefined });
  }

  const event = (seq: number) => ({
    operation: 'insert', database: 'db', collection: 'c', document_key: '{"_id":1}', full_document: '{"_id":1}', full_document_before_change: null,
    update_description: null, operation_description: null, to_namespace: null, cluster_time: '1795000000.1', event_time: '2026-11-18T11:06:40.000Z',
    cluster_time_increment: 1, wall_time: null, txn_number: null, lsid: null, stream: 'db', generation: 1, seq,
  });

  it('encodes a batch into an object job under the same job id, with the body in Redis', async () => {
    const prefix = `{bw-${Date.now()}}`;
    const writer = await start(prefix);
    const redis = new Redis(server.url);
    const batches = new Queue(QUEUES.batches, { connection: redis, prefix });
    const objects = new Queue(QUEUES.objects, { connection: redis, prefix });
    try {
      await batches.add('batch', { v: 1, stream: 'db', batchId: 'c@1', collection: 'c', seqStart: 1, seqEnd: 3, partition: '2026-11-18T09', events: [event(1), event(2), event(3)], resumeToken: { _data: 'x' } }, { jobId: 'j1' });
      const job = await eventually('the object job', () => objects.getJob('j1'), 10_000);
      expect(job.data).toMatchObject({ v: 1, stream: 'db', batchId: 'c@1', events: 3, contentEncoding: 'zstd' });
      expect(job.data.key).toBe('coll=c/year=2026/month=11/day=18/hour=11/db+0000000001+00000000000000000001+00000000000000000003.jsonl.zst');
      expect((await redis.getBuffer(job.data.bodyKey))!.length).toBe(job.data.bytes);
    } finally {
      await batches.close();
      await objects.close();
      redis.disconnect();
      await writer.runtime.lifecycle.shutdown(0);
    }
  });

  it('sends malformed batches to the dead-letter queue with the reason, keeps working, and replays them on demand', async () => {
    const prefix = `{bw-dlq-${Date.now()}}`;
    const writer = await start(prefix);
    const redis = new Redis(server.url);
    const batches = new Queue(QUEUES.batches, { connection: redis, prefix });
    const dlq = new Queue(QUEUES.deadLetter, { connection: redis, prefix });
    try {
      await batches.add('batch', { v: 1, stream: 'db', batchId: 'c@5', collection: 'c', seqStart: 5, seqEnd: 6, events: [event(6), event(5)] }, { jobId: 'bad-order' });
      await batches.add('batch', { v: 7 }, { jobId: 'bad-version' });
      await batches.add('batch', { v: 1, stream: 'db', batchId: 'c@1', collection: 'c', seqStart: 1, seqEnd: 1, partition: 'p', events: [event(1)], resumeToken: {} }, { jobId: 'good' });
      const letters = await eventually('two dead letters', async () => {
        const jobs = await dlq.getJobs(['waiting']);
        return jobs.length === 2 ? jobs.map((j) => j.data as DeadLetter) : undefined;
      }, 10_000);
      const byId = Object.fromEntries(letters.map((l) => [l.jobId, l]));
      expect(byId['bad-order'].reason).toMatch(/seq 5 outside the batch order/);
      expect(byId['bad-version'].reason).toMatch(/unknown batch job version 7/);
      expect(byId['bad-version'].queue).toBe('batches');
      expect(writer.worker.isRunning()).toBe(true);
      expect(await (await batches.getJob('good'))!.isCompleted()).toBe(true);

      const firstFailure = byId['bad-version'].failedAt;
      await new Promise((r) => setTimeout(r, 5));
      expect(await replayDeadLetters(redis, prefix)).toBe(2);
      // Still malformed, so they fail again and come back to the DLQ: replay re-runs them and never loses one.
      await eventually(
        'the replayed jobs to be dead-lettered again',
        async () => {
          const again = (await dlq.getJobs(['waiting'])).map((j) => j.data as DeadLetter);
          return again.length === 2 && again.every((l) => l.failedAt > firstFailure);
        },
        10_000,
      );
    } finally {
      await batches.close();
      await dlq.close();
      redis.disconnect();
      await writer.runtime.lifecycle.shutdown(0);
    }
  });
});
