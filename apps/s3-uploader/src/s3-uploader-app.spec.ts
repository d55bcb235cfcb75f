import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CheckpointStore, StreamLease } from '@runnel/checkpoint';
import { parseConfig } from '@runnel/config';
import { sha256 } from '@runnel/lake';
import { BodyStore, QUEUES } from '@runnel/queue';
import { eventually, FlakyProxy, RedisServer, S3Server } from '@runnel/testing';
import { S3UploaderConfigSchema } from './config';
import { startS3Uploader } from './s3-uploader-app';

describe('s3-uploader against real Redis and s3rver', () => {
  let redisServer: RedisServer;
  let s3server: S3Server;
  let proxy: FlakyProxy;
  let redis: Redis;
  let s3: S3Client;
  beforeAll(async () => {
    redisServer = await RedisServer.start();
    s3server = await S3Server.start(['lake']);
    proxy = await FlakyProxy.start(s3server.endpoint);
    redis = new Redis(redisServer.url);
    s3 = new S3Client(s3server.clientConfig);
  });
  afterAll(async () => {
    s3.destroy();
    redis.disconnect();
    await proxy.stop();
    await s3server.stop();
    await redisServer.stop();
  });

  async function start(prefix: string, env: Record<string, string> = {}) {
    const config = parseConfig(S3UploaderConfigSchema, {
      REDIS_URL: redisServer.url, QUEUE_PREFIX: prefix, METRICS_PORT: '0', HOST: '127.0.0.1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', S3_BUCKET: 'lake', AWS_ENDPOINT_URL_S3: proxy.endpoint, S3_FORCE_PATH_STYLE: 'true', S3_CONDITIONAL_WRITES: 'false',
      AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', RETRY_DELAY_MS: '20', MAX_RETRY_DELAY_MS: '200', ...env,
    });
    return startS3Uploader(config, { handleProcessEvents: false, exit: () => undefined });
  }

  /** Registers a cut batch in the checkpoint store and queues its object job, as reader and writer would. */
  async function stage(prefix: string, key: string, text: string, seq: number) {
    const checkpoints = new CheckpointStore(redis, { prefix, ttlMs: 60_000 });
    const term = (await new StreamLease(redis, { prefix, stream: 'db', holder: 'reader', ttlMs: 60_000 }).acquire())!;
    const writer = checkpoints.writer(term);
    const generation = (await checkpoints.generation('db'))?.generation ?? (await writer.startGeneration(undefined, 'test'));
    const id = CheckpointStore.batchId(generation, 'db.c', seq);
    await writer.open(generation, { id, database: 'db', collection: 'c', seqStart: seq, tokenBefore: { _data: `t${seq - 1}` } });
    await writer.cut(generation, id, { seqEnd: seq, token: { _data: `t${seq}` } });
    await term.release();
    const body = Buffer.from(text);
    const { key: bodyKey } = await new BodyStore(redis, prefix).put(key, body);
    const objects = new Queue(QUEUES.objects, { connection: redis, prefix });
    await objects.add('object', { v: 1, stream: 'db', batchId: id, collection: 'c', seqStart: seq, seqEnd: seq, key, bodyKey, bytes: body.length, sha256: sha256(body), contentType: 'application/x-ndjson', events: 1, resumeToken: { _data: `t${seq}` } }, { jobId: `job-${seq}` });
    await objects.close();
    return { checkpoints, bodyKey };
  }

  const read = async (key: string) => (await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body!.transformToString());

  it('stores the object, then advances the checkpoint, then frees the body', async () => {
    const prefix = `{up-${Date.now()}}`;
    const up = await start(prefix);
    try {
      const { checkpoints, bodyKey } = await stage(prefix, 'ok/one.jsonl', 'line one\n', 1);
      await eventually('the checkpoint to pass the batch', async () => (await checkpoints.load('db'))?.seq === 1, 10_000);
      expect(await read('ok/one.jsonl')).toBe('line one\n');
      expect(await redis.exists(bodyKey)).toBe(0);
    } finally {
      await up.runtime.lifecycle.shutdown(0);
    }
  });

  it('retries through a window of S3 503s, and the checkpoint waits for the object', async () => {
    const prefix = `{up-flaky-${Date.now()}}`;
    const up = await start(prefix);
    try {
      proxy.failNext(4, 503);
      const { checkpoints } = await stage(prefix, 'flaky/two.jsonl', 'two\n', 1);
      await eventually('the checkpoint to pass the batch', async () => (await checkpoints.load('db'))?.seq === 1, 10_000);
      expect(proxy.failed).toBeGreaterThanOrEqual(4);
      expect(await read('flaky/two.jsonl')).toBe('two\n');
      const metrics = await (await fetch(`http://127.0.0.1:${up.metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/runnel_retries_total\{stage="upload",service="s3-uploader"\} [4-9]/);
    } finally {
      await up.runtime.lifecycle.shutdown(0);
    }
  });

  it('a rebuilt object with other bytes under the same identity converges: the first stored stays, the checkpoint moves on', async () => {
    // A replayed updateLookup event carries the document as it is now, so a batch rebuilt after its
    // object was stored can encode to other bytes. (This was a conflict: dead-lettered, and the
    // checkpoint never passed it.)
    const prefix = `{up-conflict-${Date.now()}}`;
    const up = await start(prefix);
    const dlq = new Queue(QUEUES.deadLetter, { connection: redis, prefix });
    try {
      const first = await stage(prefix, 'conflict/x.jsonl', 'original\n', 1);
      await eventually('first stored', async () => (await first.checkpoints.load('db'))?.seq === 1, 10_000);
      const { checkpoints } = await stage(prefix, 'conflict/x.jsonl', 'DIFFERENT\n', 2);
      await eventually('the checkpoint to pass the rebuilt batch', async () => (await checkpoints.load('db'))?.seq === 2, 10_000);
      expect(await read('conflict/x.jsonl')).toBe('original\n');
      expect(await dlq.count()).toBe(0);
      const metrics = await (await fetch(`http://127.0.0.1:${up.metricsPort}/metrics`)).text();
      expect(metrics).toMatch(/runnel_objects_kept_first_total\{service="s3-uploader"\} 1/);
    } finally {
      await dlq.close();
      await up.runtime.lifecycle.shutdown(0);
    }
  });
});
