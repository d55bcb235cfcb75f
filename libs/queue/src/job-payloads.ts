import type { ChangeEnvelope } from '@runnel/lake';

/**
 * Job payloads, versioned: a worker refuses (dead-letters) a version it does not know rather than
 * misreading it, so services can be upgraded one at a time.
 */

/** A resume token as the driver gives it: an opaque document, stored whole. */
export type ResumeToken = Record<string, unknown>;

/** change-reader → batch-writer. */
export interface BatchJobV1 {
  v: 1;
  stream: string;
  /** The checkpoint's id for this batch (`<collection>@<seqStart>`). */
  batchId: string;
  collection: string;
  /** First and last seq in the batch, inclusive. */
  seqStart: number;
  seqEnd: number;
  /** Hive partition the batch belongs to (a batch never spans two), e.g. `2026-11-21T22`. */
  partition: string;
  events: ChangeEnvelope[];
  /** Token of the batch's last event: the checkpoint may move here once the object is in S3. */
  resumeToken: ResumeToken;
}

/** batch-writer → s3-uploader. The body itself sits in Redis under `bodyKey` (binary, not JSON). */
export interface ObjectJobV1 {
  v: 1;
  stream: string;
  batchId: string;
  collection: string;
  seqStart: number;
  seqEnd: number;
  /** Object key in the bucket, derived from the data only. */
  key: string;
  bodyKey: string;
  bytes: number;
  /** Hex SHA-256 of the body: lets a replay prove it wrote the same bytes. */
  sha256: string;
  contentType: string;
  contentEncoding?: string;
  events: number;
  resumeToken: ResumeToken;
}

export type BatchJob = BatchJobV1;
export type ObjectJob = ObjectJobV1;

/** Thrown by a worker for a payload it cannot process however often it retries: goes to the dead-letter queue. */
export class UnprocessableJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnprocessableJobError';
  }
}

export function assertBatchJob(data: unknown): BatchJob {
  const d = data as Partial<BatchJobV1>;
  if (!d || d.v !== 1) throw new UnprocessableJobError(`unknown batch job version ${JSON.stringify(d?.v)}`);
  if (!Array.isArray(d.events) || typeof d.seqStart !== 'number' || typeof d.seqEnd !== 'number' || typeof d.stream !== 'string' || typeof d.batchId !== 'string') {
    throw new UnprocessableJobError('batch job lacks events, seqStart, seqEnd, stream or batchId');
  }
  if (d.events.length === 0) throw new UnprocessableJobError('batch job has no events');
  // A batch holds one collection's events: seqs increase within [seqStart, seqEnd] (gaps are other collections').
  let last = d.seqStart - 1;
  for (const [i, e] of d.events.entries()) {
    if (!e || typeof e !== 'object') throw new UnprocessableJobError(`event ${i} is not an object`);
    if (typeof e.seq !== 'number' || e.seq <= last || e.seq > d.seqEnd) throw new UnprocessableJobError(`event ${i} has seq ${String(e.seq)} outside the batch order`);
    if (typeof e.cluster_time !== 'string' || !/^\d+\.\d+$/.test(e.cluster_time)) throw new UnprocessableJobError(`event ${i} (seq ${e.seq}) has no valid cluster_time`);
    if (typeof e.operation !== 'string' || typeof e.collection !== 'string') throw new UnprocessableJobError(`event ${i} (seq ${e.seq}) lacks operation or collection`);
    last = e.seq;
  }
  return d as BatchJobV1;
}

export function assertObjectJob(data: unknown): ObjectJob {
  const d = data as Partial<ObjectJobV1>;
  if (!d || d.v !== 1) throw new UnprocessableJobError(`unknown object job version ${JSON.stringify(d?.v)}`);
  for (const f of ['stream', 'batchId', 'key', 'bodyKey', 'sha256', 'contentType'] as const) {
    if (typeof d[f] !== 'string') throw new UnprocessableJobError(`object job lacks ${f}`);
  }
  return d as ObjectJobV1;
}
