// Also an entry point of its own, @runnel/lake/object-store (tsconfig.base.json, jest.preset.js):
// s3-uploader stores bodies encoded elsewhere and imports only this, so its bundle has none of the
// formats (Arrow, CSV, parquet-wasm) the index brings along. Keep it free of the formats.
import { HeadObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export { sha256 } from './object-digest';

export interface StoredObject {
  key: string;
  body: Buffer;
  contentType: string;
  contentEncoding?: string;
  /** Hex SHA-256 of body; stored as object metadata so a later writer can compare without downloading. */
  sha256: string;
}

/**
 * created: this put stored the object. already-stored: the key held these very bytes. kept-first:
 * the key held other bytes — the same batch (same stream, generation, namespace and seq range)
 * encoded earlier, whose updateLookup documents were read at another time — and the first stored
 * version stays: a replay converges, it never conflicts or overwrites (docs/architecture.md,
 * object identity).
 */
export type PutOutcome = 'created' | 'already-stored' | 'kept-first';

/**
 * Thrown when S3 refused a conditional put (412) yet HEAD finds no object: it was deleted in
 * between. Transient: the put is retried.
 */
export class ObjectVanishedError extends Error {
  constructor(readonly key: string) {
    super(`s3 object ${key} refused as existing, then not found`);
    this.name = 'ObjectVanishedError';
  }
}

export interface ObjectStoreOptions {
  bucket: string;
  /** Bodies at or above this go up as a multipart upload (lib-storage). */
  multipartThreshold: number;
  /**
   * true: `If-None-Match: *` on every put (AWS S3 and MinIO honour it); a 412 is followed by a HEAD
   * to tell "same batch, already stored" from a conflict. false: HEAD before each put, for servers
   * that ignore the header (it is then a check, not a guarantee against a concurrent writer).
   */
  conditionalWrites: boolean;
}

/** Puts objects so a replay never duplicates and never overwrites: the first version stored under a key wins. */
export class ObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly opts: ObjectStoreOptions,
  ) {}

  async put(object: StoredObject, signal?: AbortSignal): Promise<PutOutcome> {
    if (!this.opts.conditionalWrites) {
      const existing = await this.#existingSha(object.key, signal);
      if (existing !== null) return this.#compare(object, existing);
    }
    try {
      await this.#write(object, signal);
      return 'created';
    } catch (err) {
      if (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed')) {
        return this.#compare(object, await this.#existingSha(object.key, signal));
      }
      throw err;
    }
  }

  #compare(object: StoredObject, existing: string | null | undefined): PutOutcome {
    if (existing === null) throw new ObjectVanishedError(object.key);
    return existing === object.sha256 ? 'already-stored' : 'kept-first';
  }

  async #write(object: StoredObject, signal?: AbortSignal): Promise<void> {
    const params = {
      Bucket: this.opts.bucket,
      Key: object.key,
      Body: object.body,
      ContentType: object.contentType,
      ContentEncoding: object.contentEncoding,
      Metadata: { sha256: object.sha256 },
      ...(this.opts.conditionalWrites ? { IfNoneMatch: '*' } : {}),
    };
    if (object.body.length < this.opts.multipartThreshold) {
      await this.s3.send(new PutObjectCommand(params), { abortSignal: signal });
      return;
    }
    const upload = new Upload({ client: this.s3, params, queueSize: 4, partSize: Math.max(5 * 1024 * 1024, this.opts.multipartThreshold) });
    signal?.addEventListener('abort', () => void upload.abort(), { once: true });
    await upload.done();
  }

  /** The stored object's sha256 metadata; null when there is no object, undefined when it has no such metadata. */
  storedSha256(key: string, signal?: AbortSignal): Promise<string | null | undefined> {
    return this.#existingSha(key, signal);
  }

  async #existingSha(key: string, signal?: AbortSignal): Promise<string | null | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: key }), { abortSignal: signal });
      return head.Metadata?.sha256;
    } catch (err) {
      if (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NotFound')) return null;
      throw err;
    }
  }
}
