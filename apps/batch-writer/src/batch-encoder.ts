import { type ChangeEnvelope, type Compression, encodeObject, type KeyStrategy, objectKey, type ObjectFormat, sha256 } from '@runnel/lake';
import type { BatchJob, ObjectJob } from '@runnel/queue';

export interface EncoderSettings {
  format: ObjectFormat;
  compression: Compression;
  keyStrategy: KeyStrategy;
  prefix: string;
}

/** One batch → its object: body, key (from the data only) and the job for the uploader. */
export function encodeBatch(batch: BatchJob, s: EncoderSettings): { body: Buffer; job: Omit<ObjectJob, 'bodyKey'> } {
  const encoded = encodeObject(batch.events, s.format, s.compression);
  const first: ChangeEnvelope = batch.events[0];
  const key = objectKey({
    strategy: s.keyStrategy,
    prefix: s.prefix,
    stream: batch.stream,
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
      batchId: batch.batchId,
      collection: batch.collection,
      seqStart: batch.seqStart,
      seqEnd: batch.seqEnd,
      key,
      bytes: encoded.body.length,
      sha256: sha256(encoded.body),
      contentType: encoded.contentType,
      contentEncoding: encoded.contentEncoding,
      events: batch.events.length,
      resumeToken: batch.resumeToken,
    },
  };
}
