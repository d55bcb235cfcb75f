/**
 * Delay before retry `attempt` (from 0): exponential backoff with full jitter, uniform in
 * [0, base·2^attempt] and capped, so many clients failing together do not retry together.
 * The gateway's model retries and s3-uploader's S3 retries both use it.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs = 30_000, random = Math.random): number {
  return Math.round(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}
