import { hostname } from 'node:os';
import { env } from '@runnel/config';
import { PipelineConfigSchema } from '@runnel/pipeline';

export const ChangeReaderConfigSchema = {
  ...PipelineConfigSchema,
  /** synthetic | mongodb; unset: mongodb when MONGODB_URI is set, else synthetic. */
  SOURCE: env.oneOf(['auto', 'synthetic', 'mongodb'], 'auto'),
  /**
   * Connection string of the MongoDB replica set or sharded cluster to read change streams from; with
   * SOURCE=auto, unset means the synthetic source. An invalid string stops start-up. Secret: redacted in
   * logs.
   */
  MONGODB_URI: env.secret(),
  /**
   * Database to watch; unset watches every database of the deployment (MONGODB_COLLECTIONS must then be
   * empty).
   */
  MONGODB_DATABASE: env.optionalStr(),
  /** Comma-separated collections of MONGODB_DATABASE to watch; empty watches all of its collections. */
  MONGODB_COLLECTIONS: env.list(),
  /**
   * What update events carry as `full_document`: `updateLookup` the document as it is when looked up (one
   * extra read per update), `whenAvailable` / `required` the post-image (needs changeStreamPreAndPostImages
   * on the collection; `required` fails without one), `default` nothing.
   */
  FULL_DOCUMENT: env.oneOf(['updateLookup', 'whenAvailable', 'required', 'default'], 'updateLookup'),
  /**
   * Whether events carry the pre-image as `full_document_before_change`: `off`, `whenAvailable`, or
   * `required` (the stream fails when one is missing); pre-images need changeStreamPreAndPostImages on the
   * collections.
   */
  FULL_DOCUMENT_BEFORE_CHANGE: env.oneOf(['off', 'whenAvailable', 'required'], 'off'),
  /**
   * What happens to a change event over 16 MB (large pre- and post-images): `split` reads it in fragments
   * (`$changeStreamSplitLargeEvent`, MongoDB 7.0 / 6.0.9 or later) and stores it whole; `skip` does the same
   * but dead-letters an event above 16 MiB with its key instead of storing it (for consumers that cannot take
   * a larger line), and also one the server cannot split (a single field over 16 MB, which `split` stops
   * at: leave such a field out with PIPELINE); `fail` stops reading at the first one with a message (for
   * servers without the split stage). Switch away from `split`/`skip` only once the checkpoint is past the last
   * split event (the position after one resumes only with the split stage).
   */
  OVERSIZE_EVENTS: env.oneOf(['split', 'skip', 'fail'], 'split'),
  /** JSON array of extra $match-style stages appended to the change stream pipeline. */
  PIPELINE: env.str('[]').refine((v) => {
    try {
      return Array.isArray(JSON.parse(v));
    } catch {
      return false;
    }
  }, { message: 'must be a JSON array of aggregation stages' }),
  /**
   * What the reader does when its resume point is gone — it left the oplog (error 286), or the checkpoint
   * expired or was deleted while the stream's generation record remains: `fail` stops reading and reports not
   * ready until an operator acts; `latest` starts a new generation (seqs from 1, new object names) reading
   * from now, leaving a gap in the lake (SNAPSHOT_MODE=when_needed snapshots into the new generation instead).
   */
  ON_HISTORY_LOST: env.oneOf(['fail', 'latest'], 'fail'),
  /**
   * Whether the documents the watched collections already hold reach the lake, as `operation: "snapshot"`
   * rows before the stream's change events: `initial` snapshots a new stream (no checkpoint), then streams
   * from the position taken before the first read; `when_needed` also snapshots instead of stopping when the
   * resume point is gone (history lost, checkpoint missing: a new generation; it overrides
   * ON_HISTORY_LOST=fail); `initial_only` snapshots a new stream and stops; `never` reads changes from now.
   * MongoDB source only.
   */
  SNAPSHOT_MODE: env.oneOf(['initial', 'never', 'when_needed', 'initial_only'], 'initial'),
  /** Documents per snapshot chunk: one find each; the unit a restarted snapshot goes back to at most. */
  SNAPSHOT_CHUNK_SIZE: env.int(1000, { min: 1, max: 100_000 }),
  /** Snapshot chunk reads in flight at once: the next chunk of the collection being read, and the next collections' first. */
  SNAPSHOT_PARALLELISM: env.int(2, { min: 1, max: 32 }),
  /**
   * Events per batch (one S3 object) at most; a collection's batch is also cut at BATCH_MAX_BYTES, after
   * BATCH_TIMEOUT_MS, and at each hour of cluster time.
   */
  BATCH_SIZE: env.int(1000, { min: 1, max: 1_000_000 }),
  /**
   * Size cap of a batch, counted as the length of its events' JSON lines before encoding and compression; an
   * event larger than the cap makes a batch of its own.
   */
  BATCH_MAX_BYTES: env.bytes('8mb'),
  /**
   * Milliseconds after a batch opens before it is cut however small, so a quiet collection's events still
   * reach S3: lower means fresher data and more, smaller objects.
   */
  BATCH_TIMEOUT_MS: env.int(5000, { min: 10, max: 3_600_000 }),
  /** Events read but not yet in S3, at most; the reader pauses beyond it instead of growing memory. */
  CHANNEL_BUFFER_SIZE: env.int(100_000, { min: 1 }),
  /**
   * Milliseconds the stream lease in Redis lasts without renewal: the reading replica renews it every third
   * of this, and a standby polls as often and takes over within this long after the holder dies.
   */
  LEASE_TTL_MS: env.int(10_000, { min: 500, max: 600_000 }),
  /**
   * This replica's name on the stream lease (the lease key's value, shown on `/ready`); must be unique per
   * replica, so leave it to the pod name in Kubernetes.
   */
  HOLDER_ID: env.str(`${hostname()}-${process.pid}`),
  /**
   * Seconds the stream's checkpoint stays in Redis after its last update (an idle reader keeps refreshing it);
   * a reader stopped longer finds it gone, which is never a silent restart: ON_HISTORY_LOST decides (stop, or
   * a new generation from now). Keep it at least as long as the oplog window.
   */
  CHECKPOINT_TTL: env.int(14 * 24 * 3600, { min: 60 }),
  /** Database name in synthetic events, and the synthetic stream's name (its checkpoint and lease keys). */
  SYNTHETIC_DATABASE: env.str('synthetic'),
  /** Comma-separated collections the synthetic events are spread over. */
  SYNTHETIC_COLLECTIONS: env.list(['orders', 'customers', 'products']),
  /** Synthetic events per second of wall time; 0 generates them as fast as the pipeline takes them. */
  SYNTHETIC_RATE: env.int(0, { min: 0 }),
  /**
   * Total synthetic events in the stream, counted from event 1 across restarts; after the last one the source
   * idles. 0: unlimited.
   */
  SYNTHETIC_COUNT: env.int(0, { min: 0 }),
  /** Approximate size in bytes of each synthetic document (padded by its `payload` field). */
  SYNTHETIC_DOC_BYTES: env.int(1024, { min: 128, max: 16_000_000 }),
  /**
   * Cluster time of synthetic event 1, in seconds since the Unix epoch; every event's time follows from it
   * and SYNTHETIC_EVENTS_PER_SECOND.
   */
  SYNTHETIC_START: env.int(1_767_225_600, { min: 0 }), // 2026-01-01T00:00:00Z
  /**
   * Synthetic events per second of cluster time (not wall time): how many events share each hour partition,
   * and so how often batches are cut at an hour boundary.
   */
  SYNTHETIC_EVENTS_PER_SECOND: env.int(1000, { min: 1 }),
};
