import { S3ServiceException } from '@aws-sdk/client-s3';
import type { CheckpointStore } from '@runnel/checkpoint';
import { type ObjectStore, type PutOutcome, sha256 } from '@runnel/lake/object-store';
import { type BodyStore, type ObjectJob, UnprocessableJobError } from '@runnel/queue';
import { retryWithBackoff, type RetryOptions } from './retry-with-backoff';

export type UploadResult = PutOutcome;

/** S3 answers that no retry can fix: bad request, access denied, missing bucket. */
function isFatalS3(err: unknown): boolean {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode ?? 0;
    return status >= 400 && status < 500 && status !== 408 && status !== 429 && status !== 412;
  }
  return false;
}

/**
 * One object job: body from Redis → S3 (retrying transient failures) → checkpoint → bodies deleted
 * (the object's, and the batch's it was encoded from).
 * The checkpoint moves only after S3 has the object; a crash anywhere before leaves the job to be
 * redone, and redoing it finds the same object already stored.
 */
export class ObjectUploader {
  constructor(
    private readonly store: ObjectStore,
    private readonly bodies: BodyStore,
    private readonly checkpoints: CheckpointStore,
    private readonly retry: Omit<RetryOptions, 'isFatal'>,
  ) {}

  async upload(job: ObjectJob): Promise<UploadResult> {
    const body = await this.bodies.get(job.bodyKey);
    let result: UploadResult;
    if (body === null) {
      // Redone after a crash that came after the upload and the body's deletion: S3 has the
      // object (whichever version was stored first). Without one, the body expired unsent.
      const stored = await this.store.storedSha256(job.key);
      if (stored === null) throw new UnprocessableJobError(`body of ${job.key} is gone and S3 does not hold the object`);
      result = 'already-stored';
    } else {
      // The hash of the bytes found, not the job's: the first body stored under a key stays
      // (BodyStore), and it is what goes to S3.
      const digest = sha256(body);
      result = await retryWithBackoff(
        () => this.store.put({ key: job.key, body, contentType: job.contentType, contentEncoding: job.contentEncoding, sha256: digest }),
        { ...this.retry, isFatal: isFatalS3 },
      );
    }
    await this.checkpoints.complete(job.stream, job.batchId);
    await this.bodies.delete(job.bodyKey, ...(job.batchBodyKey ? [job.batchBodyKey] : []));
    return result;
  }
}
