import type { RunnableConfig } from '@langchain/core/runnables';
import type { ChannelVersions, Checkpoint, CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';

/**
 * LangGraph's PostgresSaver, with the run that wrote each checkpoint recorded in its metadata
 * (`run_id`, from the run config's `configurable.run_id`). LangGraph.js, unlike Python's, does not
 * copy it there itself, and two rules need it: a rollback deletes the checkpoints of the run it
 * undoes, and a run retried after a crash knows whether its input is already in the thread (then it
 * continues from its last checkpoint instead of starting over with the input again).
 */
export class RunStampedSaver extends PostgresSaver {
  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    const runId = config.configurable?.run_id;
    return super.put(config, checkpoint, typeof runId === 'string' ? ({ ...metadata, run_id: runId } as CheckpointMetadata) : metadata, newVersions);
  }
}
