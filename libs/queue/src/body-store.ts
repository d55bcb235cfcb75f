import type { RedisClient } from './redis-connection';

/**
 * Bodies that travel beside jobs: encoded objects (batch-writer → s3-uploader) and batches' JSONL
 * (change-reader → batch-writer). Kept out of the job payload (JSON, and copied on every state
 * change) and stored once as binary under a key derived from the batch.
 *
 * The first body stored under a key stays (SET NX): a rebuilt batch — whose events may differ,
 * since a replayed updateLookup reads the document as it is now — never replaces a body that an
 * earlier job still refers to. This is the body half of "the first stored version wins"
 * (docs/architecture.md, object identity); put returns whichever body the key now holds.
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

  /** Stores a batch's body unless one is there already; returns its key. */
  async putBatch(jobId: string, body: Buffer): Promise<string> {
    const key = this.batchKeyFor(jobId);
    await this.redis.set(key, body, 'PX', this.ttlMs, 'NX');
    return key;
  }

  /**
   * Stores an encoded object's body unless one is there already. Returns the key and the body the
   * key holds (this one, or the one stored first), so the job describes the bytes that will be uploaded.
   */
  async put(objectKey: string, body: Buffer): Promise<{ key: string; body: Buffer }> {
    const key = this.keyFor(objectKey);
    if ((await this.redis.set(key, body, 'PX', this.ttlMs, 'NX')) === 'OK') return { key, body };
    const stored = await this.redis.getBuffer(key);
    // Gone between the two calls (the uploader stored and deleted it): store ours.
    if (stored === null) return this.put(objectKey, body);
    return { key, body: stored };
  }

  async get(bodyKey: string): Promise<Buffer | null> {
    return this.redis.getBuffer(bodyKey);
  }

  async delete(...bodyKeys: string[]): Promise<void> {
    await this.redis.del(...bodyKeys);
  }
}
