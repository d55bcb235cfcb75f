import type { Redis } from 'ioredis';

/**
 * Encoded object bodies between batch-writer and s3-uploader. Kept out of the job payload (JSON,
 * and copied on every state change) and stored once as binary under a key derived from the
 * object key, so a re-encoded replay overwrites the same entry instead of adding one.
 */
export class BodyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Bodies are deleted after upload; the TTL only collects what a dead-lettered batch left behind. */
    private readonly ttlMs = 7 * 24 * 3600 * 1000,
  ) {}

  keyFor(objectKey: string): string {
    return `${this.prefix}:body:${objectKey}`;
  }

  async put(objectKey: string, body: Buffer): Promise<string> {
    const key = this.keyFor(objectKey);
    await this.redis.set(key, body, 'PX', this.ttlMs);
    return key;
  }

  async get(bodyKey: string): Promise<Buffer | null> {
    return this.redis.getBuffer(bodyKey);
  }

  async delete(bodyKey: string): Promise<void> {
    await this.redis.del(bodyKey);
  }
}
