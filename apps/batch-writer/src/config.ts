import { env } from '@runnel/config';
import { COMPRESSIONS, FORMATS } from '@runnel/lake/formats';
import { KEY_STRATEGIES } from '@runnel/lake/records';
import { PipelineConfigSchema } from '@runnel/pipeline';

export const BatchWriterConfigSchema = {
  ...PipelineConfigSchema,
  /** How long a job's lock lasts without renewal: a worker killed mid-job has its job taken over after this. */
  JOB_LOCK_MS: env.int(30_000, { min: 1000, max: 3_600_000 }),
  /** Batches one pod encodes at once (the queue worker's concurrency). */
  NUM_WORKERS: env.int(4, { min: 1, max: 256 }),
  /**
   * Format of the objects written to the lake. Choose it before the first object: changing it later starts a
   * differently laid-out lake.
   */
  FORMAT: env.oneOf(FORMATS, 'jsonl'),
  /**
   * Compression of each object: gzip or zstd around the whole file for `jsonl` and `csv` (keys end `.gz` /
   * `.zst`), the page codec inside `parquet` files; `none` for neither.
   */
  COMPRESSION: env.oneOf(COMPRESSIONS, 'zstd'),
  /**
   * Object key layout under S3_PREFIX, by collection and the UTC hour of the events' cluster time: `hive`
   * (`coll=c/year=…/month=…/day=…/hour=…/`; `coll` is not a data column, so Athena/Glue accept the table;
   * database-level events under `coll=__HIVE_DEFAULT_PARTITION__`), `date_hour` (`c/YYYY/MM/DD/HH/`), `date`
   * (`c/YYYY/MM/DD/`), `collection` (`c/`) or `flat` (`c+` before the file name); database-level events
   * under `_database` in those. File names are `<stream>+<generation>+<seqStart>+<seqEnd>.<ext>`.
   */
  KEY_STRATEGY: env.oneOf(KEY_STRATEGIES, 'hive'),
  /**
   * Key prefix for every object in the bucket (a trailing `/` is added when missing); empty writes from the
   * bucket root.
   */
  S3_PREFIX: env.str(''),
  /**
   * Retries of each object job this service hands to the s3-uploader (the job gets MAX_RETRIES + 1 attempts)
   * before it goes to the dead-letter queue; each attempt itself retries the upload up to the uploader's own
   * MAX_RETRIES.
   */
  MAX_RETRIES: env.int(5, { min: 0, max: 100 }),
  /**
   * Milliseconds before the first queue retry of a failed object job, doubling with each further retry (with
   * jitter).
   */
  RETRY_DELAY_MS: env.int(500, { min: 1, max: 600_000 }),
};
