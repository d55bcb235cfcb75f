import type { RunnableConfig } from '@langchain/core/runnables';
import type { ChannelVersions, Checkpoint, CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';

/** Configurable keys that are the checkpoint's address, not its metadata (as the reference's saver has them). */
const NOT_METADATA = new Set(['checkpoint_ns', 'checkpoint_id', 'run_id', 'thread_id']);

/**
 * LangGraph's PostgresSaver, with the run that wrote each checkpoint recorded in its metadata
 * (`run_id`, from the run config's `configurable.run_id`). LangGraph.js, unlike Python's, does not
 * copy it there itself, and two rules need it: a rollback deletes the checkpoints of the run it
 * undoes, and a run retried after a crash knows whether its input is already in the thread (then it
 * continues from its last checkpoint instead of starting over with the input again).
 *
 * As the reference's saver does, the run's configurable (but internal `__` keys and the address
 * keys) and its config metadata (graph_id, assistant_id, the assistant's and thread's metadata,
 * langgraph_*, run_attempt...) go into each checkpoint's metadata too, under LangGraph's own
 * (source, step, parents): what getState/getHistory show and history's `metadata` filter matches.
 */
export class RunStampedSaver extends PostgresSaver {
  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    const runId = config.configurable?.run_id;
    const fromConfigurable = Object.fromEntries(Object.entries(config.configurable ?? {}).filter(([key]) => !key.startsWith('__') && !NOT_METADATA.has(key)));
    const merged = { ...fromConfigurable, ...config.metadata, ...metadata, ...(typeof runId === 'string' && { run_id: runId }) } as CheckpointMetadata;
    return super.put(config, checkpoint, merged, newVersions);
  }
}
