/**
 * The LangGraph Platform API's resources as they cross the wire (langchain-ai/agent-protocol, and
 * what `@langchain/langgraph-sdk`'s Client reads). Timestamps are ISO strings on the wire.
 */

export type Metadata = Record<string, unknown>;

export type ThreadStatus = 'idle' | 'busy' | 'interrupted' | 'error';
export type RunStatus = 'pending' | 'running' | 'error' | 'success' | 'timeout' | 'interrupted';
export type MultitaskStrategy = 'reject' | 'rollback' | 'interrupt' | 'enqueue';
export type OnDisconnect = 'cancel' | 'continue';
export type StreamMode = 'values' | 'messages' | 'messages-tuple' | 'custom' | 'updates' | 'events' | 'debug' | 'tasks' | 'checkpoints';
export const STREAM_MODES: readonly StreamMode[] = ['values', 'messages', 'messages-tuple', 'custom', 'updates', 'events', 'debug', 'tasks', 'checkpoints'];

export interface AgentRunnableConfig {
  tags?: string[];
  recursion_limit?: number;
  configurable?: Record<string, unknown>;
  metadata?: Metadata;
}

export interface Assistant {
  assistant_id: string;
  graph_id: string;
  name: string;
  description: string | null;
  config: AgentRunnableConfig;
  context: unknown;
  metadata: Metadata;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Thread {
  thread_id: string;
  created_at: string;
  updated_at: string;
  metadata: Metadata;
  status: ThreadStatus;
  /** The latest checkpoint's channel values (null before the first run). */
  values: unknown;
  /** Pending interrupts by task id (`{}` when none). */
  interrupts: Record<string, unknown[]>;
  config?: AgentRunnableConfig;
}

/** What a run was asked to do: stored with the run, read by whichever replica's worker executes it. */
export interface RunKwargs {
  input?: unknown;
  command?: { resume?: unknown; update?: unknown; goto?: unknown } | null;
  stream_mode: StreamMode[];
  interrupt_before?: '*' | string[];
  interrupt_after?: '*' | string[];
  config: AgentRunnableConfig;
  context?: unknown;
  subgraphs?: boolean;
  resumable?: boolean;
  /** A stateless run (`/runs/...` without a thread): its thread is deleted when it ends. */
  temporary?: boolean;
  webhook?: string;
  /**
   * When checkpoints are written (LangGraph's `durability`): 'async' (the default: after each step,
   * alongside the next), 'sync' (after each step, before the next) or 'exit' (only when the run ends:
   * fewer writes, but a run retried after a crash starts over from its input).
   */
  durability?: 'sync' | 'async' | 'exit';
}

export interface Run {
  run_id: string;
  thread_id: string;
  assistant_id: string;
  created_at: string;
  updated_at: string;
  status: RunStatus;
  metadata: Metadata;
  kwargs: RunKwargs;
  multitask_strategy: MultitaskStrategy;
}

/** One server-sent event of a run's stream: `event: <event>\ndata: <json(data)>`. */
export interface AgentEvent {
  event: string;
  data: unknown;
}
