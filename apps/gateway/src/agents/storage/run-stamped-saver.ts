import type { RunnableConfig } from '@langchain/core/runnables';
import type { ChannelVersions, Checkpoint, CheckpointMetadata, PendingWrite, SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { WRITES_IDX_MAP } from '@langchain/langgraph-checkpoint';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { escapeIdentifier, type Pool } from 'pg';

/** Configurable keys that are the checkpoint's address, not its metadata (as the reference's saver has them). */
const NOT_METADATA = new Set(['checkpoint_ns', 'checkpoint_id', 'run_id', 'thread_id']);

/**
 * LangGraph's PostgresSaver, with the run that wrote each checkpoint recorded in its metadata
 * (`run_id`, from the run config's `configurable.run_id`). LangGraph.js, unlike Python's, does not
 * copy it there itself, and two rules need it: a rollback deletes the checkpoints of the run it
 * undoes, and a run retried after a crash knows whether its input is already in the thread (then it
 * continues from its last checkpoint instead of starting over with the input again).
 *
 * As the reference's saver does for a run's checkpoints, the run's configurable (but internal `__` keys and the address
 * keys) and its config metadata (graph_id, assistant_id, the assistant's and thread's metadata,
 * langgraph_*, run_attempt...) go into each checkpoint's metadata too, under LangGraph's own
 * (source, step, parents): what getState/getHistory show and history's `metadata` filter matches.
 *
 * `put` and `putWrites` write the same rows as PostgresSaver's (its own serialisation, the same
 * upserts), each in one statement instead of a transaction of one statement per row: a checkpoint
 * is one round trip, not BEGIN + one per channel blob + the checkpoint + COMMIT (a single
 * statement is atomic: its blobs and its checkpoint are written together or not at all).
 */
export class RunStampedSaver extends PostgresSaver {
  readonly #pool: Pool;
  readonly #blobs: string;
  readonly #checkpoints: string;
  readonly #writes: string;

  constructor(pool: Pool, serde?: SerializerProtocol, options?: ConstructorParameters<typeof PostgresSaver>[2]) {
    super(pool, serde, options);
    this.#pool = pool;
    const schema = escapeIdentifier(options?.schema ?? 'public');
    this.#blobs = `${schema}.checkpoint_blobs`;
    this.#checkpoints = `${schema}.checkpoints`;
    this.#writes = `${schema}.checkpoint_writes`;
  }

  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    if (config.configurable === undefined) throw new Error(`Missing "configurable" field in "config" param`);
    const runId = config.configurable.run_id;
    // Only a run's checkpoints are stamped: anything else (a state update, another user of the
    // saver) is stored with its metadata unaltered, as LangGraph's checkpointer conformance suite
    // requires (run-stamped-saver.validation.spec.ts).
    const merged =
      typeof runId === 'string'
        ? ({
            ...Object.fromEntries(Object.entries(config.configurable).filter(([key]) => !key.startsWith('__') && !NOT_METADATA.has(key))),
            ...config.metadata,
            ...metadata,
            run_id: runId,
          } as CheckpointMetadata)
        : metadata;

    const { thread_id, checkpoint_ns = '', checkpoint_id } = config.configurable as { thread_id: string; checkpoint_ns?: string; checkpoint_id?: string };
    const [blobs, serializedMetadata] = await Promise.all([
      this._dumpBlobs(thread_id, checkpoint_ns, checkpoint.channel_values, newVersions),
      this._dumpMetadata(merged),
    ]);
    // $1 thread_id, $2 checkpoint_ns, $3 checkpoint_id, $4 parent, $5 checkpoint, $6 metadata, then 4 per blob.
    const params: unknown[] = [thread_id, checkpoint_ns, checkpoint.id, checkpoint_id, this._dumpCheckpoint(checkpoint), serializedMetadata];
    const rows = blobs.map(([, , channel, version, type, blob]) => {
      params.push(channel, version, type, blob);
      const n = params.length;
      return `($1, $2, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    const insertCheckpoint = `INSERT INTO ${this.#checkpoints} (thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, checkpoint, metadata)
      VALUES ($1, $2, $3, $4, $5, $6)
      ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, metadata = EXCLUDED.metadata`;
    const sql = rows.length
      ? `WITH blobs AS (
           INSERT INTO ${this.#blobs} (thread_id, checkpoint_ns, channel, version, type, blob) VALUES ${rows.join(', ')}
           ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
         )
         ${insertCheckpoint}`
      : insertCheckpoint;
    await this.#pool.query(sql, params);
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  override async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string): Promise<void> {
    if (writes.length === 0) return;
    const upsert = writes.every(([channel]) => channel in WRITES_IDX_MAP);
    const dumped = await this._dumpWrites(config.configurable?.thread_id, config.configurable?.checkpoint_ns, config.configurable?.checkpoint_id, taskId, writes);
    // PostgresSaver upserts them one by one (a later write of the same index wins): one statement
    // cannot update a row twice, so that case stays PostgresSaver's.
    if (upsert && new Set(dumped.map((w) => w[4])).size !== dumped.length) return super.putWrites(config, writes, taskId);
    // $1..$4 thread_id, checkpoint_ns, checkpoint_id, task_id, then 4 per write (idx, channel, type, blob).
    const [first] = dumped;
    const params: unknown[] = [first[0], first[1], first[2], first[3]];
    const rows = dumped.map(([, , , , idx, channel, type, blob]) => {
      params.push(idx, channel, type, blob);
      const n = params.length;
      return `($1, $2, $3, $4, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    await this.#pool.query(
      `INSERT INTO ${this.#writes} (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob) VALUES ${rows.join(', ')}
       ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO ${upsert ? 'UPDATE SET channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob' : 'NOTHING'}`,
      params,
    );
  }
}
