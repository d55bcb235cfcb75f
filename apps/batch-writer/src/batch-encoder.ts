// @runnel/lake's entry points, not its index: the index also has the lake's readers (S3 listing,
// verifier, lake state) and their bson, which the bundle would load and the image install for
// nothing (an external's import is kept for its side effects).
import { type Compression, type EncodedObject, encodeJsonlBody, encodeObject, type ObjectFormat } from '@runnel/lake/formats';
import { type ChangeEnvelope, type KeyStrategy, objectKey, sha256, upgradeEnvelope } from '@runnel/lake/records';
import { assertBatchBody, assertBatchEvents, type BatchJob, generationOf, type ObjectJob, UnprocessableJobError } from '@runnel/queue';

export interface EncoderSettings {
  format: ObjectFormat;
  compression: Compression;
  keyStrategy: KeyStrategy;
  prefix: string;
}

/**
 * One batch → its object: body, key (from the data only) and the job for the uploader. A version 2
 * batch comes with its JSONL body (fetched from the BodyStore by the caller).
 */
export function encodeBatch(batch: BatchJob, s: EncoderSettings, batchBody?: Buffer): { body: Buffer; job: Omit<ObjectJob, 'bodyKey'> } {
  const { encoded, events, first } = encode(batch, s, batchBody);
  const key = objectKey({
    strategy: s.keyStrategy,
    prefix: s.prefix,
    stream: batch.stream,
    generation: generationOf(batch),
    collection: batch.collection,
    clusterSeconds: Number(first.cluster_time.split('.')[0]),
    seqStart: batch.seqStart,
    seqEnd: batch.seqEnd,
    extension: encoded.extension,
  });
  return {
    body: encoded.body,
    job: {
      v: 1,
      stream: batch.stream,
      generation: generationOf(batch),
      batchId: batch.batchId,
      collection: batch.collection,
      seqStart: batch.seqStart,
      seqEnd: batch.seqEnd,
      key,
      bytes: encoded.body.length,
      sha256: sha256(encoded.body),
      contentType: encoded.contentType,
      contentEncoding: encoded.contentEncoding,
      events,
      resumeToken: batch.resumeToken,
      ...(batch.v !== 1 ? { batchBodyKey: batch.bodyKey } : {}),
    },
  };
}

/** Events per operation type in a batch, for runnel_events_processed_total. */
export function operationCounts(batch: BatchJob): Record<string, number> {
  if (batch.v !== 1) return batch.operations;
  const counts: Record<string, number> = {};
  for (const e of batch.events) counts[e.operation] = (counts[e.operation] ?? 0) + 1;
  return counts;
}

function encode(batch: BatchJob, s: EncoderSettings, body?: Buffer): { encoded: EncodedObject; events: number; first: ChangeEnvelope } {
  // Jobs from a reader older than generations carry envelopes without the newer fields: completed
  // here (generation 1, event time from the cluster time), as decodeObject completes old objects.
  if (batch.v === 1) {
    const events = batch.events.map(upgradeEnvelope);
    return { encoded: encodeObject(events, s.format, s.compression), events: events.length, first: events[0] };
  }
  if (!body) throw new Error(`encodeBatch: no body given for version 2 batch ${batch.batchId}`);
  const { first } = assertBatchBody(batch, body);
  if (s.format !== 'jsonl') {
    // CSV and Parquet parse the lines anyway, so every event is checked, as for version 1.
    const parsed: unknown[] = body.toString('utf8').split('\n', batch.count).map((line, i) => {
      try {
        return JSON.parse(line);
      } catch (err) {
        throw new UnprocessableJobError(`event ${i} is not JSON: ${(err as Error).message}`);
      }
    });
    assertBatchEvents(parsed, batch.seqStart, batch.seqEnd);
    const events = batch.v === 2 ? parsed.map(upgradeEnvelope) : parsed;
    return { encoded: encodeObject(events, s.format, s.compression), events: events.length, first };
  }
  return { encoded: encodeJsonlBody(body, s.compression), events: batch.count, first };
}
