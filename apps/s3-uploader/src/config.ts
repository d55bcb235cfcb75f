import { env } from '@runnel/config';
import { PipelineConfigSchema } from '@runnel/queue';

export const S3UploaderConfigSchema = {
  ...PipelineConfigSchema,
  /** How long a job's lock lasts without renewal: a worker killed mid-job has its job taken over after this. */
  JOB_LOCK_MS: env.int(30_000, { min: 1000, max: 3_600_000 }),
  NUM_WORKERS: env.int(8, { min: 1, max: 256 }),
  AWS_REGION: env.str('us-east-1'),
  S3_BUCKET: env.requiredStr(),
  /** MinIO and friends: their endpoint, usually with S3_FORCE_PATH_STYLE=true. */
  AWS_ENDPOINT_URL_S3: env.url({ optional: true }),
  S3_FORCE_PATH_STYLE: env.bool(false),
  /** Read by the AWS SDK itself; declared so they are validated as secrets and never logged. */
  AWS_ACCESS_KEY_ID: env.secret(),
  AWS_SECRET_ACCESS_KEY: env.secret(),
  /** If-None-Match on puts (AWS S3, MinIO); false for servers that ignore it: HEAD before put. */
  S3_CONDITIONAL_WRITES: env.bool(true),
  MULTIPART_THRESHOLD: env.bytes('16mb'),
  MAX_RETRIES: env.int(8, { min: 0, max: 100 }),
  RETRY_DELAY_MS: env.int(200, { min: 1, max: 600_000 }),
  MAX_RETRY_DELAY_MS: env.int(10_000, { min: 1, max: 3_600_000 }),
  /** Seconds; the resume state expires when a stream is untouched this long. */
  CHECKPOINT_TTL: env.int(14 * 24 * 3600, { min: 60 }),
};
