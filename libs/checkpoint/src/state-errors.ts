/**
 * Thrown by a fenced checkpoint write when Redis no longer holds this term's earlier writes: it
 * restarted without them (kill -9 with `appendfsync everysec`) or failed over to a replica that
 * lagged. The reader ends its term and replays from the checkpoint Redis does hold, which hands
 * every batch whose record, body or job vanished on again.
 */
export class StateLostError extends Error {
  constructor(
    stream: string,
    /** What was found, for the log: the write that failed and the term key it expected and found. */
    readonly evidence = '',
  ) {
    super(`Redis lost recent checkpoint writes of stream ${stream} (restart without fsync, or failover to a lagging replica); replaying from the checkpoint${evidence ? ` [${evidence}]` : ''}`);
    this.name = 'StateLostError';
  }
}

/**
 * Thrown by a fenced checkpoint write when the stream is no longer on the generation the reader
 * reads (an operator or another reader started a new one): the reader ends its term and starts
 * again from the new generation's state.
 */
export class GenerationChangedError extends Error {
  constructor(stream: string, generation: number) {
    super(`stream ${stream} is no longer on generation ${generation}`);
    this.name = 'GenerationChangedError';
  }
}

/**
 * Thrown (by the reader) when the stream has a generation but no checkpoint: it expired
 * (CHECKPOINT_TTL passed with no reader) or was deleted. Never a silent restart: ON_HISTORY_LOST
 * decides between stopping and a new generation from now.
 */
export class CheckpointMissingError extends Error {
  constructor(
    readonly stream: string,
    readonly generation: number,
  ) {
    super(`stream ${stream} is on generation ${generation} but its checkpoint is gone (expired after CHECKPOINT_TTL, or deleted)`);
    this.name = 'CheckpointMissingError';
  }
}

/**
 * Thrown (by the reader) when Redis has no state at all for a stream that this process saw there
 * before: Redis came back empty (no AOF/RDB, a new instance, a flushed database). Reading on would
 * silently start from now; the reader stops and says what to do instead.
 */
export class StreamStateLostError extends Error {
  constructor(
    readonly stream: string,
    readonly generation: number,
  ) {
    super(`Redis has no state for stream ${stream}, which was on generation ${generation}: Redis came back empty`);
    this.name = 'StreamStateLostError';
  }
}
