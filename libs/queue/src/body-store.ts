import type { RedisClient } from './redis-connection';

/**
 * Bodies that travel beside jobs: encoded objects (batch-writer → s3-uploader) and version 2
 * batches' JSONL (change-reader → batch-writer). Kept out of the job payload (JSON,
 * and copied on every state change) and stored once as binary under a key derived from the
 * object key, so a re-encoded replay overwrites the same entry instead of adding one.
 */
export class BodyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** Bodies are deleted after upload; the TTL only collects what a dead-lettered batch left behind. */
    private readonly ttlMs = 7 * 24 * 3600 * 1000,
  ) {}

  keyFor(objectKey: string): string {
    return `${this.prefix}:body:${objectKey}`;
  }

  /** A batch's JSONL body (version 2 batch jobs), by the batch's job id: a replayed batch rewrites the same entry. */
  batchKeyFor(jobId: string): string {
    return `${this.prefix}:batch-body:${jobId}`;
  }

  putBatch(jobId: string, body: Buffer): Promise<string> {
    return this.#putAt(this.batchKeyFor(jobId), body);
  }

  async put(objectKey: string, body: Buffer): Promise<string> {
    return this.#putAt(this.keyFor(objectKey), body);
  }

  async #putAt(key: string, body: Buffer): Promise<string> {
    await this.redis.set(key, body, 'PX', this.ttlMs);
    return key;
  }

  async get(bodyKey: string): Promise<Buffer | null> {
    return this.redis.getBuffer(bodyKey);
  }

  async delete(...bodyKeys: string[]): Promise<void> {
    await this.redis.del(...bodyKeys);
  }
}
