import { CheckpointStore, ResnapshotRequests, StreamLease } from '@runnel/checkpoint';
import type { ConfigOf } from '@runnel/config';
import { PipelineRuntime, type PipelineRuntimeOptions } from '@runnel/pipeline';
import { BodyStore, createQueue, QUEUES, sampleQueueDepth } from '@runnel/queue';
import { clusterSeconds } from './change-envelope-mapper';
import { ChangeReaderService, HALTED } from './change-reader.service';
import type { ChangeReaderConfigSchema } from './config';
import type { ChangeSource } from './sources/change-source';
import { createMongoSource } from './sources/mongodb-source';
import { SyntheticSource } from './sources/synthetic-source';
import { redisFirstWriteStore, SnapshotChunks } from './snapshot/snapshot-chunks';
import { SnapshotProgress } from './snapshot/snapshot-progress';
import { SnapshotSource } from './snapshot/snapshot-source';
import { redisDropSets } from './snapshot/incremental-snapshot';

export type ChangeReaderConfig = ConfigOf<typeof ChangeReaderConfigSchema>;

type Runtime = Awaited<ReturnType<typeof PipelineRuntime.create>>;

function createSource(config: ChangeReaderConfig, rt: Runtime, checkpoints: CheckpointStore, progress: (stream: string) => SnapshotProgress): { source: ChangeSource; kind: string; scope?: string } {
  const kind = config.SOURCE === 'auto' ? (config.MONGODB_URI ? 'mongodb' : 'synthetic') : config.SOURCE;
  if (kind === 'mongodb') {
    const inner = createMongoSource(config);
    // The snapshot sits in front of the change stream (SNAPSHOT_MODE decides when it runs).
    const source = new SnapshotSource({
      inner,
      mode: config.SNAPSHOT_MODE,
      chunkSize: config.SNAPSHOT_CHUNK_SIZE,
      parallelism: config.SNAPSHOT_PARALLELISM,
      chunks: new SnapshotChunks(redisFirstWriteStore(rt.redis), config.QUEUE_PREFIX, inner.stream),
      progress: progress(inner.stream),
      logger: rt.logger,
      checkpoint: async () => (await checkpoints.load(inner.stream))?.token,
      incremental: { requests: new ResnapshotRequests(rt.redis, config.QUEUE_PREFIX, inner.stream), drops: redisDropSets(rt.redis), prefix: config.QUEUE_PREFIX },
    });
    return { kind, source, scope: inner.describe() };
  }
  return {
    kind,
    source: new SyntheticSource({
      database: config.SYNTHETIC_DATABASE,
      collections: config.SYNTHETIC_COLLECTIONS,
      rate: config.SYNTHETIC_RATE,
      count: config.SYNTHETIC_COUNT,
      documentBytes: config.SYNTHETIC_DOC_BYTES,
      startSeconds: config.SYNTHETIC_START,
      eventsPerClusterSecond: config.SYNTHETIC_EVENTS_PER_SECOND,
      idleIntervalMs: Math.min(1000, config.BATCH_TIMEOUT_MS),
    }),
  };
}

/** change-reader: one stream, read by whichever replica holds its lease. */
export async function startChangeReader(config: ChangeReaderConfig, options: PipelineRuntimeOptions = {}) {
  const rt = await PipelineRuntime.create('change-reader', config, options);
  const { logger, metrics } = rt;
  let snapshot: SnapshotProgress | undefined;
  const checkpoints = new CheckpointStore(rt.redis, { prefix: config.QUEUE_PREFIX, ttlMs: config.CHECKPOINT_TTL * 1000 });
  const { source, kind, scope } = createSource(config, rt, checkpoints, (stream) => (snapshot = new SnapshotProgress(stream, metrics)));
  // when_needed re-snapshots where ON_HISTORY_LOST=fail would stop: a new generation, then its snapshot.
  const onHistoryLost = kind === 'mongodb' && config.SNAPSHOT_MODE === 'when_needed' ? 'latest' : config.ON_HISTORY_LOST;
  if (onHistoryLost !== config.ON_HISTORY_LOST) logger.info({ stream: source.stream }, 'SNAPSHOT_MODE=when_needed: a lost resume point starts a new generation with a snapshot (ON_HISTORY_LOST=fail does not apply)');
  if (kind === 'mongodb') logger.info({ stream: source.stream, scope }, `SOURCE=mongodb: watching ${scope}`);
  if (kind === 'synthetic') logger.warn({ stream: source.stream }, 'SOURCE=synthetic: reading generated events, not MongoDB (set MONGODB_URI to read a real deployment)');
  const prefix = config.QUEUE_PREFIX;
  const batches = createQueue(QUEUES.batches, rt.connection(), prefix);
  const objects = createQueue(QUEUES.objects, rt.redis, prefix);
  const dlq = createQueue(QUEUES.deadLetter, rt.redis, prefix);
  const reader = new ChangeReaderService({
    source,
    checkpoints,
    lease: new StreamLease(rt.redis, { prefix, stream: source.stream, holder: config.HOLDER_ID, ttlMs: config.LEASE_TTL_MS }),
    batches,
    objects,
    bodies: new BodyStore(rt.redis, prefix),
    deadLetters: dlq,
    cutter: { batchSize: config.BATCH_SIZE, maxBytes: config.BATCH_MAX_BYTES, timeoutMs: config.BATCH_TIMEOUT_MS },
    bufferLimit: config.CHANNEL_BUFFER_SIZE,
    leaseTtlMs: config.LEASE_TTL_MS,
    onHistoryLost,
    snapshotMode: kind === 'mongodb' ? config.SNAPSHOT_MODE : 'never',
    metrics,
    logger,
  });

  // A standby is ready (it is doing its job: waiting); a reader halted for an operator is not.
  rt.lifecycle.addReadinessCheck('reader', async () => {
    const checkpoint = await checkpoints.load(source.stream);
    return {
      ok: !HALTED.includes(reader.state),
      detail: {
        stream: source.stream,
        state: reader.state,
        generation: checkpoint?.generation ?? reader.generation ?? null,
        holder: config.HOLDER_ID,
        read_seq: reader.lastSeq,
        checkpoint_seq: checkpoint?.seq ?? null,
        // Whether the stream's start position is recorded: a new generation has checkpoint_seq 0
        // a moment before the reader has opened its change stream (writes before that are not in it).
        checkpoint_cluster_time: checkpoint?.token ? (checkpoint.clusterTime ?? null) : null,
        has_position: checkpoint?.token !== undefined,
        in_flight_events: reader.state === 'reading' ? reader.lastSeq - (checkpoint?.seq ?? 0) : null,
        checkpoint_age_s: checkpoint ? Math.round((Date.now() - checkpoint.updatedAt) / 1000) : null,
        snapshot: snapshot?.status ?? null,
      },
    };
  });
  rt.lifecycle.addReadinessCheck('queues', async () => ({ ok: true, detail: await sampleQueueDepth([batches], metrics, dlq) }));
  rt.onScrape(() => sampleQueueDepth([batches], metrics, dlq));
  rt.onScrape(async () => {
    if (reader.state !== 'reading') snapshot?.notReading();
  });
  // Checkpoint lag, from the active reader only: how old the checkpoint is in cluster time while
  // events are read but not yet in S3 (so a pipeline that stores nothing shows a growing lag), and
  // 0 when everything read is stored (an idle stream is not behind).
  rt.onScrape(async () => {
    if (reader.state !== 'reading') return void metrics.checkpointLag.remove(source.stream);
    const checkpoint = await checkpoints.load(source.stream);
    const behind = reader.lastSeq > (checkpoint?.seq ?? 0);
    metrics.checkpointLag.labels(source.stream).set(behind && checkpoint?.clusterTime ? Math.max(0, Date.now() / 1000 - clusterSeconds(checkpoint.clusterTime)) : 0);
  });

  const ac = new AbortController();
  const running = reader.run(ac.signal);
  const metricsPort = await rt.serve(async () => {
    ac.abort();
    await running;
    await Promise.all([batches.close(), objects.close(), dlq.close()]);
  });
  logger.info({ metricsPort, stream: source.stream, source: kind, holder: config.HOLDER_ID }, 'change-reader running');
  return { runtime: rt, reader, metricsPort };
}
