import type { ResumeToken } from '@runnel/checkpoint';
import type { ChangeEnvelope } from '@runnel/lake/records';

/**
 * Job payloads, versioned: a worker refuses (dead-letters) a version it does not know rather than
 * misreading it, so services can be upgraded one at a time.
 */

/** change-reader → batch-writer, version 1: the events as objects. Still accepted (jobs queued by an older reader). */
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

/**
 * change-reader → batch-writer, version 2: the events as JSONL (one `jsonlLine` per event) in the
 * BodyStore under `bodyKey`, binary. The reader serialises each event once; a JSONL writer
 * compresses the bytes as they are; and the job stays small. In version 1 the events sat in the
 * job: BullMQ stringified and parsed a megabyte of nested JSON per batch (escaping every quote of
 * every document twice), which was the largest single cost in change-reader.
 */
export interface BatchJobV2 {
  v: 2;
  stream: string;
  batchId: string;
  collection: string;
  seqStart: number;
  seqEnd: number;
  partition: string;
  /** BodyStore key of the events as JSONL, seq order, every line newline-terminated. */
  bodyKey: string;
  /** Number of events (lines). */
  count: number;
  /** Events per operation type (for metrics: the writer need not parse JSONL it passes through). */
  operations: Record<string, number>;
  resumeToken: ResumeToken;
}

/**
 * change-reader → batch-writer, version 3: version 2 plus the stream's generation and the batch's
 * namespace (a batch holds one namespace's events; `collection` is null for database-level events
 * such as dropDatabase). The generation is part of the object key and of every id, so a stream
 * that starts again at seq 1 (a new generation) never collides with what an earlier one stored.
 */
export interface BatchJobV3 extends Omit<BatchJobV2, 'v' | 'collection'> {
  v: 3;
  generation: number;
  database: string;
  collection: string | null;
}

/** batch-writer → s3-uploader. The body itself sits in Redis under `bodyKey` (binary, not JSON). */
export interface ObjectJobV1 {
  v: 1;
  stream: string;
  /** The stream's generation (jobs from before generations existed: 1). */
  generation?: number;
  batchId: string;
  collection: string | null;
  seqStart: number;
  seqEnd: number;
  /** Object key in the bucket, derived from the data only. */
  key: string;
  bodyKey: string;
  bytes: number;
  /**
   * Hex SHA-256 of the body the writer encoded. Informational: the uploader hashes the body it
   * actually finds (the first one stored under the key wins, see BodyStore).
   */
  sha256: string;
  contentType: string;
  contentEncoding?: string;
  events: number;
  resumeToken: ResumeToken;
  /** The version 2 batch body this object was encoded from: deleted with the object body once stored. */
  batchBodyKey?: string;
}

export type BatchJob = BatchJobV1 | BatchJobV2 | BatchJobV3;

/** The generation a batch belongs to (versions 1 and 2 predate generations: 1). */
export function generationOf(batch: BatchJob): number {
  return batch.v === 3 ? batch.generation : 1;
}
export type ObjectJob = ObjectJobV1;

/** Thrown by a worker for a payload it cannot process however often it retries: goes to the dead-letter queue. */
export class UnprocessableJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnprocessableJobError';
  }
}

export function assertBatchJob(data: unknown): BatchJob {
  const d = data as Partial<BatchJobV1> | Partial<BatchJobV2> | Partial<BatchJobV3>;
  if (!d || (d.v !== 1 && d.v !== 2 && d.v !== 3)) throw new UnprocessableJobError(`unknown batch job version ${JSON.stringify(d?.v)}`);
  if (typeof d.seqStart !== 'number' || typeof d.seqEnd !== 'number' || typeof d.stream !== 'string' || typeof d.batchId !== 'string') {
    throw new UnprocessableJobError('batch job lacks seqStart, seqEnd, stream or batchId');
  }
  if (d.v === 3 && (typeof d.generation !== 'number' || typeof d.database !== 'string')) throw new UnprocessableJobError('batch job lacks generation or database');
  if (d.v === 2 || d.v === 3) return assertJsonlBatch(d as Partial<BatchJobV2>) as BatchJobV2 | BatchJobV3;
  const events = (d as Partial<BatchJobV1>).events;
  if (!Array.isArray(events)) throw new UnprocessableJobError('batch job lacks events');
  assertBatchEvents(events, d.seqStart, d.seqEnd);
  return d as BatchJobV1;
}

function assertJsonlBatch(d: Partial<BatchJobV2>): BatchJobV2 {
  if (typeof d.bodyKey !== 'string' || typeof d.count !== 'number' || !d.operations) {
    throw new UnprocessableJobError('batch job lacks bodyKey, count or operations');
  }
  if (d.count < 1) throw new UnprocessableJobError('batch job has no events');
  return d as BatchJobV2;
}

/**
 * A version 2 batch's body is checked without parsing every line (not parsing is what version 2
 * saves): the line count, and the first and last events' seq, cluster time and shape. The formats
 * that parse the lines anyway (CSV, Parquet) check every event with assertBatchEvents.
 */
export function assertBatchBody(job: BatchJobV2 | BatchJobV3, body: Buffer): { first: ChangeEnvelope } {
  if (body.length === 0 || body[body.length - 1] !== 0x0a) throw new UnprocessableJobError('batch body does not end with a newline');
  let lines = 0;
  for (let at = body.indexOf(0x0a); at !== -1; at = body.indexOf(0x0a, at + 1)) lines++;
  if (lines !== job.count) throw new UnprocessableJobError(`batch body has ${lines} jsonl lines, count says ${job.count}`);
  const first = parseLine(body.toString('utf8', 0, body.indexOf(0x0a)), 0);
  const last = lines === 1 ? first : parseLine(body.toString('utf8', body.lastIndexOf(0x0a, body.length - 2) + 1, body.length - 1), lines - 1);
  assertBatchEvents(lines === 1 ? [first] : [first, last], job.seqStart, job.seqEnd);
  if (first.seq !== job.seqStart || last.seq !== job.seqEnd) throw new UnprocessableJobError(`batch body runs from seq ${first.seq} to ${last.seq}, not ${job.seqStart} to ${job.seqEnd}`);
  return { first };
}

function parseLine(line: string, index: number): ChangeEnvelope {
  try {
    return JSON.parse(line) as ChangeEnvelope;
  } catch (err) {
    throw new UnprocessableJobError(`event ${index} is not JSON: ${(err as Error).message}`);
  }
}

/** A batch holds one collection's events: seqs increase within [seqStart, seqEnd] (gaps are other collections'). */
export function assertBatchEvents(events: unknown[], seqStart: number, seqEnd: number): asserts events is ChangeEnvelope[] {
  if (events.length === 0) throw new UnprocessableJobError('batch job has no events');
  let last = seqStart - 1;
  for (const [i, e] of (events as ChangeEnvelope[]).entries()) {
    if (!e || typeof e !== 'object') throw new UnprocessableJobError(`event ${i} is not an object`);
    if (typeof e.seq !== 'number' || e.seq <= last || e.seq > seqEnd) throw new UnprocessableJobError(`event ${i} has seq ${String(e.seq)} outside the batch order`);
    if (typeof e.cluster_time !== 'string' || !/^\d+\.\d+$/.test(e.cluster_time)) throw new UnprocessableJobError(`event ${i} (seq ${e.seq}) has no valid cluster_time`);
    if (typeof e.operation !== 'string' || (typeof e.collection !== 'string' && e.collection !== null)) throw new UnprocessableJobError(`event ${i} (seq ${e.seq}) lacks operation or collection`);
    last = e.seq;
  }
}

export function assertObjectJob(data: unknown): ObjectJob {
  const d = data as Partial<ObjectJobV1>;
  if (!d || d.v !== 1) throw new UnprocessableJobError(`unknown object job version ${JSON.stringify(d?.v)}`);
  for (const f of ['stream', 'batchId', 'key', 'bodyKey', 'sha256', 'contentType'] as const) {
    if (typeof d[f] !== 'string') throw new UnprocessableJobError(`object job lacks ${f}`);
  }
  return d as ObjectJobV1;
}
