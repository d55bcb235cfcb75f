import { createHash } from 'node:crypto';

/**
 * An object body's SHA-256, hex: stored as the object's metadata and compared on a retried put. In
 * its own file so that the writer, which only computes it, does not load the S3 SDK with it.
 */
export function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}
