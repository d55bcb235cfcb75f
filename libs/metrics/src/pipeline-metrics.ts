import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The change-data pipeline's metrics (prefix runnel_), created on the service's registry. Each
 * service uses the ones that concern it; names and labels are shared so dashboards span services.
 */
export function pipelineMetrics(registry: Registry) {
  const registers = [registry];
  return {
    eventsProcessed: new Counter({ name: 'runnel_events_processed_total', help: 'Change events handled, by collection and operation', labelNames: ['collection', 'operation'] as const, registers }),
    batchSize: new Histogram({ name: 'runnel_batch_size', help: 'Events per batch', buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000], registers }),
    batchBytes: new Histogram({ name: 'runnel_batch_bytes', help: 'Encoded object size in bytes', buckets: [1e3, 1e4, 1e5, 5e5, 1e6, 5e6, 1e7, 5e7, 1e8], registers }),
    batchDuration: new Histogram({ name: 'runnel_batch_duration_seconds', help: 'Time to encode one batch', buckets: SECONDS, registers }),
    uploadDuration: new Histogram({ name: 'runnel_upload_duration_seconds', help: 'Time to store one object in S3 (all attempts)', buckets: SECONDS, registers }),
    uploadBytes: new Counter({ name: 'runnel_upload_bytes_total', help: 'Bytes stored in S3', registers }),
    writeErrors: new Counter({ name: 'runnel_write_errors_total', help: 'Failed attempts by stage: read (a change event dead-lettered), encode, upload', labelNames: ['stage'] as const, registers }),
    retries: new Counter({ name: 'runnel_retries_total', help: 'Attempts after the first, by stage', labelNames: ['stage'] as const, registers }),
    dlqSize: new Gauge({ name: 'runnel_dlq_size', help: 'Jobs in the dead-letter queue', registers }),
    queueDepth: new Gauge({ name: 'runnel_queue_depth', help: 'Jobs per queue and state', labelNames: ['queue', 'state'] as const, registers }),
    activeWorkers: new Gauge({ name: 'runnel_active_workers', help: 'Jobs being processed now', registers }),
    changeStreamLag: new Gauge({ name: 'runnel_change_stream_lag_seconds', help: 'Now minus the cluster time of the last event read', labelNames: ['stream'] as const, registers }),
    checkpointLag: new Gauge({ name: 'runnel_checkpoint_lag_seconds', help: 'While events are read but not yet in S3: now minus the cluster time of the checkpoint; 0 when everything read is stored', labelNames: ['stream'] as const, registers }),
    leaseHolder: new Gauge({ name: 'runnel_lease_holder', help: '1 when this replica holds the stream lease', labelNames: ['stream'] as const, registers }),
    generation: new Gauge({ name: 'runnel_stream_generation', help: "The stream's generation (seconds since the epoch when it began; part of every object key)", labelNames: ['stream'] as const, registers }),
    generationsStarted: new Counter({ name: 'runnel_generations_started_total', help: 'New generations begun, by reason (new stream, history lost, checkpoint missing)', labelNames: ['stream', 'reason'] as const, registers }),
    replays: new Counter({ name: 'runnel_replays_total', help: 'Reads restarted from the checkpoint because Redis lost state the reader had written, by reason', labelNames: ['stream', 'reason'] as const, registers }),
    keptFirst: new Counter({ name: 'runnel_objects_kept_first_total', help: 'Rebuilt objects whose bytes differed from the object already stored under the same identity (the first stored is kept)', registers }),
    snapshotRows: new Counter({ name: 'runnel_snapshot_rows_total', help: 'Snapshot rows emitted by the reader (a replayed row counts again)', labelNames: ['stream', 'collection'] as const, registers }),
    snapshotChunks: new Counter({ name: 'runnel_snapshot_chunks_total', help: 'Snapshot chunks emitted by the reader', labelNames: ['stream', 'collection'] as const, registers }),
    snapshotActive: new Gauge({ name: 'runnel_snapshot_active', help: '1 while this reader emits snapshot rows', labelNames: ['stream'] as const, registers }),
    snapshotRemainingRows: new Gauge({ name: 'runnel_snapshot_remaining_rows', help: 'Rows of the collection still to read, from its estimated document count', labelNames: ['stream', 'collection'] as const, registers }),
    snapshotLastProgress: new Gauge({ name: 'runnel_snapshot_last_progress_timestamp_seconds', help: 'When the running snapshot last emitted a chunk (the stall alert compares it with time())', labelNames: ['stream'] as const, registers }),
    readerHalted: new Gauge({ name: 'runnel_reader_halted', help: '1 while the reader has stopped for an operator (state history_lost, state_lost or oversize_event)', labelNames: ['stream', 'state'] as const, registers }),
    historyLost: new Counter({ name: 'runnel_history_lost_total', help: 'Change stream history lost (error 286) occurrences', labelNames: ['stream'] as const, registers }),
  };
}

export type PipelineMetrics = ReturnType<typeof pipelineMetrics>;
