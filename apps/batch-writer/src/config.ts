import { env } from '@runnel/config';
import { COMPRESSIONS, FORMATS, KEY_STRATEGIES } from '@runnel/lake';
import { PipelineConfigSchema } from '@runnel/queue';

export const BatchWriterConfigSchema = {
  ...PipelineConfigSchema,
  /** How long a job's lock lasts without renewal: a worker killed mid-job has its job taken over after this. */
  JOB_LOCK_MS: env.int(30_000, { min: 1000, max: 3_600_000 }),
  NUM_WORKERS: env.int(4, { min: 1, max: 256 }),
  FORMAT: env.oneOf(FORMATS, 'jsonl'),
  COMPRESSION: env.oneOf(COMPRESSIONS, 'zstd'),
  KEY_STRATEGY: env.oneOf(KEY_STRATEGIES, 'hive'),
  S3_PREFIX: env.str(''),
  MAX_RETRIES: env.int(5, { min: 0, max: 100 }),
  RETRY_DELAY_MS: env.int(500, { min: 1, max: 600_000 }),
};
