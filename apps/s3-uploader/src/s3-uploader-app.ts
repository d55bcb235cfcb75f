import { S3Client } from '@aws-sdk/client-s3';
import { UnrecoverableError, Worker } from 'bullmq';
import { CheckpointStore } from '@runnel/checkpoint';
import type { ConfigOf } from '@runnel/config';
// The object store's own entry, not @runnel/lake's index: the index's formats and lake readers
// import parquet-wasm and bson, which the bundle then loads (an external's import is kept for its
// side effects) and the image installs, in a service that never encodes or reads the lake.
import { ObjectStore } from '@runnel/lake/object-store';
import { PipelineRuntime, type PipelineRuntimeOptions } from '@runnel/pipeline';
import { assertObjectJob, BodyStore, createQueue, deadLetterOnFinalFailure, QUEUES, sampleQueueDepth, UnprocessableJobError } from '@runnel/queue';
import type { S3UploaderConfigSchema } from './config';
import { ObjectUploader } from './object-uploader';

export type S3UploaderConfig = ConfigOf<typeof S3UploaderConfigSchema>;

/** s3-uploader: stores encoded objects in S3, then advances the checkpoint. */
export async function startS3Uploader(config: S3UploaderConfig, options: PipelineRuntimeOptions = {}) {
  const rt = await PipelineRuntime.create('s3-uploader', config, options);
  const { metrics, logger } = rt;
  const prefix = config.QUEUE_PREFIX;
  const s3 = new S3Client({
    region: config.AWS_REGION,
    endpoint: config.AWS_ENDPOINT_URL_S3,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    maxAttempts: 1, // ObjectUploader owns retries, so MAX_RETRIES means what it says
    // Keys from the validated config when given; otherwise the SDK's chain (IRSA, instance profile, …).
    credentials:
      config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: config.AWS_ACCESS_KEY_ID.reveal(), secretAccessKey: config.AWS_SECRET_ACCESS_KEY.reveal() }
        : undefined,
  });
  const store = new ObjectStore(s3, { bucket: config.S3_BUCKET, multipartThreshold: config.MULTIPART_THRESHOLD, conditionalWrites: config.S3_CONDITIONAL_WRITES });
  const checkpoints = new CheckpointStore(rt.redis, { prefix, ttlMs: config.CHECKPOINT_TTL * 1000 });
  const uploader = new ObjectUploader(store, new BodyStore(rt.redis, prefix), checkpoints, {
    maxRetries: config.MAX_RETRIES,
    baseDelayMs: config.RETRY_DELAY_MS,
    maxDelayMs: config.MAX_RETRY_DELAY_MS,
    onRetry: (err, attempt, delayMs) => {
      metrics.retries.labels('upload').inc();
      metrics.writeErrors.labels('upload').inc();
      logger.warn({ err: { message: (err as Error).message }, attempt, delayMs }, 'upload failed; retrying');
    },
  });
  const dlq = createQueue(QUEUES.deadLetter, rt.redis, prefix);

  const worker = new Worker(
    QUEUES.objects,
    async (job) => {
      const timer = metrics.uploadDuration.startTimer();
      try {
        const object = assertObjectJob(job.data);
        const result = await uploader.upload(object);
        if (result === 'created') metrics.uploadBytes.inc(object.bytes);
        if (result === 'kept-first') {
          metrics.keptFirst.inc();
          logger.warn({ key: object.key, batch: object.batchId }, 'a rebuilt object differs from the one already stored under its identity (replayed updateLookup documents): the first stored version is kept');
        }
        return { key: object.key, result };
      } catch (err) {
        if (err instanceof UnprocessableJobError) throw new UnrecoverableError(err.message);
        throw err;
      } finally {
        timer();
      }
    },
    { connection: rt.connection(), prefix, concurrency: config.NUM_WORKERS, lockDuration: config.JOB_LOCK_MS, stalledInterval: config.JOB_LOCK_MS,
      // A job whose worker died is simply taken over; it must never fail for having been interrupted.
      maxStalledCount: 1_000_000 },
  );
  worker.on('active', () => metrics.activeWorkers.inc());
  worker.on('completed', () => metrics.activeWorkers.dec());
  worker.on('failed', (_job, err) => {
    metrics.activeWorkers.dec();
    logger.error({ err: { message: err.message } }, 'upload failed for good');
  });
  deadLetterOnFinalFailure(worker, QUEUES.objects, dlq, (letter) =>
    logger.error({ jobId: letter.jobId, reason: letter.reason }, 'object dead-lettered; the checkpoint will not pass it until the DLQ is replayed (npm run dlq:replay)'),
  );

  const objects = createQueue(QUEUES.objects, rt.redis, prefix);
  rt.lifecycle.addReadinessCheck('queues', async () => ({ ok: true, detail: await sampleQueueDepth([objects], metrics, dlq) }));
  rt.onScrape(() => sampleQueueDepth([objects], metrics, dlq));
  rt.lifecycle.addReadinessCheck('worker', () => ({ ok: worker.isRunning(), detail: { concurrency: config.NUM_WORKERS, bucket: config.S3_BUCKET } }));

  const metricsPort = await rt.serve(async () => {
    await worker.close();
    await Promise.all([objects.close(), dlq.close()]);
    s3.destroy();
  });
  logger.info({ metricsPort, bucket: config.S3_BUCKET, endpoint: config.AWS_ENDPOINT_URL_S3, workers: config.NUM_WORKERS }, 's3-uploader running');
  return { runtime: rt, worker, metricsPort };
}
