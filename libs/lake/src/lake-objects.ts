import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ChangeEnvelope } from './change-envelope';
import { decodeObject } from './formats/object-codec';
import { type ParsedObjectKey, parseObjectKey } from './object-key';

/** One Runnel object read back: its key, what the key says, and its decoded events. */
export interface LakeObject extends ParsedObjectKey {
  key: string;
  events: ChangeEnvelope[];
}

/**
 * Every Runnel object under a prefix (keys `parseObjectKey` does not recognise are skipped), in
 * listing order, decoded (any format and compression). The one place the lake is listed and read
 * back: the verifier and the lake's state both read through it.
 */
export async function* readLakeObjects(s3: S3Client, bucket: string, prefix = ''): AsyncGenerator<LakeObject> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
    for (const item of page.Contents ?? []) {
      const key = item.Key;
      const parsed = key === undefined ? undefined : parseObjectKey(key);
      if (key === undefined || !parsed) continue;
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
      yield { key, ...parsed, events: decodeObject(body, parsed.extension) };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Every event under a prefix, or only `stream`'s, in listing order (lakeState orders them itself). */
export async function readLakeEnvelopes(s3: S3Client, bucket: string, prefix = '', stream?: string): Promise<ChangeEnvelope[]> {
  const events: ChangeEnvelope[] = [];
  for await (const o of readLakeObjects(s3, bucket, prefix)) {
    if (stream === undefined || o.stream === stream) events.push(...o.events);
  }
  return events;
}
