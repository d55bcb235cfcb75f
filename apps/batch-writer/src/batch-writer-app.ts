import { UnrecoverableError, Worker } from 'bullmq';
import type { ConfigOf } from '@runnel/config';
import { sha256 } from '@runnel/lake/records';
import { PipelineRuntime, type PipelineRuntimeOptions } from '@runnel/pipeline';
import {
  assertBatchJob,
  BodyStore,
  createQueue,
  deadLetterOnFinalFailure,
  defaultJobOptions,
  QUEUES,
  sampleQueueDepth,
  UnprocessableJobError,
} from '@runnel/queue';
import { encodeBatch, operationCounts } from './batch-encoder';
import type { BatchWriterConfigSchema } from './config';

export type BatchWriterConfig = ConfigOf<typeof BatchWriterConfigSchema>;

/**
 * batch-writer: takes batches off the `batches` queue, encodes each into one object body
 * (FORMAT, COMPRESSION), stores the body in Redis and hands an object job to the uploader under
 * the same job id (so a retried batch never becomes two uploads).
 */
export async function startBatchWriter(config: BatchWriterConfig, options: PipelineRuntimeOptions = {}) {
  const rt = await PipelineRuntime.create('batch-writer', config, options);
  const { metrics, logger } = rt;
  const prefix = config.QUEUE_PREFIX;
  const bodies = new BodyStore(rt.redis, prefix);
  const objects = createQueue(QUEUES.objects, rt.connection(), prefix);
  const dlq = createQueue(QUEUES.deadLetter, rt.redis, prefix);
  const settings = { format: config.FORMAT, compression: config.COMPRESSION, keyStrategy: config.KEY_STRATEGY, prefix: config.S3_PREFIX };

  const worker = new Worker(
    QUEUES.batches,
    async (job) => {
      if (job.attemptsMade > 0) metrics.retries.labels('encode').inc();
      const timer = metrics.batchDuration.startTimer();
      let batch, encoded;
      try {
        batch = assertBatchJob(job.data);
        let batchBody: Buffer | undefined;
        if (batch.v !== 1) {
          // The object job has this batch's id. Completed: the batch is in S3 already (a reader
          // replaying after a crash hands on the same batch again); only its body is left to drop.
          const handedOn = await objects.getJob(job.id!);
          if (handedOn && (await handedOn.isCompleted())) {
            await bodies.delete(batch.bodyKey);
            return { alreadyStored: true };
          }
          const stored = await bodies.get(batch.bodyKey);
          if (stored === null) {
            // Redone after a crash that came after the hand-on, and the uploader has since deleted
            // the body with its object: the object job carries on with the work.
            if (handedOn) return { alreadyHandedOn: true };
            // Redis lost the body (a restart without fsync, a failover to a lagging replica, or its
            // TTL): nothing here can rebuild it, and dead-lettering would stall the checkpoint.
            // Finishing the job leaves the batch carried by no job, which the reader notices and
            // answers by replaying the batch from MongoDB (BatchHandoff.vanished).
            logger.warn({ jobId: job.id, batch: batch.batchId }, 'batch body gone and no object made from it: the reader will hand the batch on again');
            return { bodyGone: true };
          }
          batchBody = stored;
        }
        encoded = encodeBatch(batch, settings, batchBody);
      } catch (err) {
        // Malformed input cannot get better by retrying: straight to the dead-letter queue.
        if (err instanceof UnprocessableJobError) throw new UnrecoverableError(err.message);
        throw err;
      }
      const { job: encodedJob } = encoded;
      // The first body stored for an object stays (a rebuilt batch may encode differently): the job
      // describes the body that is there.
      const { key: bodyKey, body } = await bodies.put(encodedJob.key, encoded.body);
      const objectJob = body === encoded.body ? encodedJob : { ...encodedJob, bytes: body.length, sha256: sha256(body) };
      await objects.add('object', { ...objectJob, bodyKey }, { ...defaultJobOptions(config.MAX_RETRIES + 1, config.RETRY_DELAY_MS), jobId: job.id });
      timer();
      metrics.batchSize.observe(objectJob.events);
      metrics.batchBytes.observe(body.length);
      for (const [operation, n] of Object.entries(operationCounts(batch))) metrics.eventsProcessed.labels(batch.collection ?? '_database', operation).inc(n);
      return { key: objectJob.key, bytes: body.length };
    },
    { connection: rt.connection(), prefix, concurrency: config.NUM_WORKERS, lockDuration: config.JOB_LOCK_MS, stalledInterval: config.JOB_LOCK_MS,
      // A job whose worker died is simply taken over; it must never fail for having been interrupted.
      maxStalledCount: 1_000_000, autorun: true },
  );
  worker.on('active', () => metrics.activeWorkers.inc());
  worker.on('completed', () => metrics.activeWorkers.dec());
  worker.on('failed', (_job, err) => {
    metrics.activeWorkers.dec();
    metrics.writeErrors.labels('encode').inc();
    logger.warn({ err: { message: err.message } }, 'batch encode failed');
  });
  deadLetterOnFinalFailure(worker, QUEUES.batches, dlq, (letter) => logger.error({ jobId: letter.jobId, reason: letter.reason }, 'batch dead-lettered'));

  const batches = createQueue(QUEUES.batches, rt.redis, prefix);
  rt.lifecycle.addReadinessCheck('queues', async () => ({ ok: true, detail: await sampleQueueDepth([batches, objects], metrics, dlq) }));
  rt.onScrape(() => sampleQueueDepth([batches, objects], metrics, dlq));
  rt.lifecycle.addReadinessCheck('worker', () => ({ ok: worker.isRunning(), detail: { concurrency: config.NUM_WORKERS } }));

  const metricsPort = await rt.serve(async () => {
    await worker.close();
    await Promise.all([objects.close(), dlq.close(), batches.close()]);
  });
  logger.info({ metricsPort, format: config.FORMAT, compression: config.COMPRESSION, workers: config.NUM_WORKERS }, 'batch-writer running');
  return { runtime: rt, worker, metricsPort };
}
