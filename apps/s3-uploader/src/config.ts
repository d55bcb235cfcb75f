import { env } from '@runnel/config';
import { PipelineConfigSchema } from '@runnel/pipeline';

export const S3UploaderConfigSchema = {
  ...PipelineConfigSchema,
  /** How long a job's lock lasts without renewal: a worker killed mid-job has its job taken over after this. */
  JOB_LOCK_MS: env.int(30_000, { min: 1000, max: 3_600_000 }),
  /** Objects one pod uploads at once (the queue worker's concurrency). */
  NUM_WORKERS: env.int(8, { min: 1, max: 256 }),
  /** Region of S3_BUCKET, for the S3 client. */
  AWS_REGION: env.str('us-east-1'),
  /** Bucket the lake is written to; the uploader refuses to start without it. */
  S3_BUCKET: env.requiredStr(),
  /** MinIO and friends: their endpoint, usually with S3_FORCE_PATH_STYLE=true. */
  AWS_ENDPOINT_URL_S3: env.url({ optional: true }),
  /**
   * true: address objects as `endpoint/bucket/key` instead of `bucket.endpoint/key`, as MinIO and other
   * S3-compatible servers at AWS_ENDPOINT_URL_S3 usually need.
   */
  S3_FORCE_PATH_STYLE: env.bool(false),
  /** Static access key id (redacted in logs); used with AWS_SECRET_ACCESS_KEY when both are set, otherwise the SDK default chain (IRSA, instance profile, ~/.aws) supplies credentials. */
  AWS_ACCESS_KEY_ID: env.secret(),
  /**
   * Pairs with AWS_ACCESS_KEY_ID: the two are used only when both are set; otherwise the SDK's default
   * credential chain (IRSA, instance profile, …) applies. Secret: redacted in logs.
   */
  AWS_SECRET_ACCESS_KEY: env.secret(),
  /** If-None-Match on puts (AWS S3, MinIO); false for servers that ignore it: HEAD before put. */
  S3_CONDITIONAL_WRITES: env.bool(true),
  /**
   * Objects this size or larger go up as a multipart upload (parts of this size, at least 5 MiB, four at a
   * time); smaller ones in a single PUT.
   */
  MULTIPART_THRESHOLD: env.bytes('16mb'),
  /**
   * Retries of a failed S3 write within one job attempt, with backoff; 4xx answers other than 408, 412 and
   * 429 are not retried. A job that still fails is retried by the queue (batch-writer's MAX_RETRIES), then
   * dead-lettered.
   */
  MAX_RETRIES: env.int(8, { min: 0, max: 100 }),
  /**
   * Milliseconds: base of the backoff between upload retries; each wait is random in [0, base × 2^attempt],
   * capped at MAX_RETRY_DELAY_MS.
   */
  RETRY_DELAY_MS: env.int(200, { min: 1, max: 600_000 }),
  /** Milliseconds: the longest wait between two upload retries. */
  MAX_RETRY_DELAY_MS: env.int(10_000, { min: 1, max: 3_600_000 }),
  /** Seconds; the resume state expires when a stream is untouched this long. */
  CHECKPOINT_TTL: env.int(14 * 24 * 3600, { min: 60 }),
};
