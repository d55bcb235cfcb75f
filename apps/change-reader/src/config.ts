import { hostname } from 'node:os';
import { env } from '@runnel/config';
import { PipelineConfigSchema } from '@runnel/queue';

export const ChangeReaderConfigSchema = {
  ...PipelineConfigSchema,
  /** synthetic | mongodb; unset: mongodb when MONGODB_URI is set, else synthetic. */
  SOURCE: env.oneOf(['auto', 'synthetic', 'mongodb'], 'auto'),
  MONGODB_URI: env.secret(),
  MONGODB_DATABASE: env.optionalStr(),
  MONGODB_COLLECTIONS: env.list(),
  FULL_DOCUMENT: env.oneOf(['updateLookup', 'whenAvailable', 'required', 'default'], 'updateLookup'),
  FULL_DOCUMENT_BEFORE_CHANGE: env.oneOf(['off', 'whenAvailable', 'required'], 'off'),
  /** JSON array of extra $match-style stages appended to the change stream pipeline. */
  PIPELINE: env.str('[]').refine((v) => {
    try {
      return Array.isArray(JSON.parse(v));
    } catch {
      return false;
    }
  }, { message: 'must be a JSON array of aggregation stages' }),
  ON_HISTORY_LOST: env.oneOf(['fail', 'latest'], 'fail'),
  BATCH_SIZE: env.int(1000, { min: 1, max: 1_000_000 }),
  BATCH_MAX_BYTES: env.bytes('8mb'),
  BATCH_TIMEOUT_MS: env.int(5000, { min: 10, max: 3_600_000 }),
  /** Events read but not yet in S3, at most; the reader pauses beyond it instead of growing memory. */
  CHANNEL_BUFFER_SIZE: env.int(100_000, { min: 1 }),
  LEASE_TTL_MS: env.int(10_000, { min: 500, max: 600_000 }),
  HOLDER_ID: env.str(`${hostname()}-${process.pid}`),
  CHECKPOINT_TTL: env.int(14 * 24 * 3600, { min: 60 }),
  SYNTHETIC_DATABASE: env.str('synthetic'),
  SYNTHETIC_COLLECTIONS: env.list(['orders', 'customers', 'products']),
  SYNTHETIC_RATE: env.int(0, { min: 0 }),
  SYNTHETIC_COUNT: env.int(0, { min: 0 }),
  SYNTHETIC_DOC_BYTES: env.int(1024, { min: 128, max: 16_000_000 }),
  SYNTHETIC_START: env.int(1_767_225_600, { min: 0 }), // 2026-01-01T00:00:00Z
  SYNTHETIC_EVENTS_PER_SECOND: env.int(1000, { min: 1 }),
};
