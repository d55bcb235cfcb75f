import type { RunnableConfig } from '@langchain/core/runnables';
import type { StateSnapshot } from '@langchain/langgraph';
import { serializeError } from './serialize-event';

/** Where a thread's state sits: the wire form of a checkpoint config. */
export interface CheckpointRef {
  thread_id: string;
  checkpoint_id: string;
  checkpoint_ns: string;
  checkpoint_map: Record<string, unknown> | null;
}

/** A task's checkpoint: a pending subgraph task may not have a checkpoint id yet. */
export interface TaskCheckpointRef extends Omit<CheckpointRef, 'checkpoint_id'> {
  checkpoint_id: string | null;
}

export interface ThreadTask {
  id: string;
  name: string;
  error: string | null;
  interrupts: unknown[];
  path: unknown[] | undefined;
  checkpoint: Record<string, unknown> | null;
  state: ThreadState | null;
  result: unknown;
}

/** What `GET /threads/{id}/state` (and each `history` entry) answers. */
export interface ThreadState {
  values: unknown;
  next: string[];
  tasks: ThreadTask[];
  metadata: Record<string, unknown> | undefined;
  created_at: string | null;
  checkpoint: CheckpointRef | null;
  parent_checkpoint: CheckpointRef | null;
}

type Configurable = Record<string, unknown>;

function configurableOf(config: unknown): Configurable | null {
  if (config == null || typeof config !== 'object') return null;
  const configurable = (config as { configurable?: unknown }).configurable;
  if (configurable == null || typeof configurable !== 'object') return null;
  return configurable as Configurable;
}

const isNullishString = (v: unknown) => v == null || typeof v === 'string';
const isNullishRecord = (v: unknown) => v == null || (typeof v === 'object' && !Array.isArray(v));

/**
 * A config's checkpoint (`thread_id`, `checkpoint_id`, `checkpoint_ns` — '' when unset —,
 * `checkpoint_map` — null when unset), or null when the config does not name one (no thread id,
 * no checkpoint id, or a field of the wrong type).
 */
export function checkpointOf(config: RunnableConfig | null | undefined): CheckpointRef | null {
  const c = configurableOf(config);
  if (!c || !c.thread_id || typeof c.thread_id !== 'string') return null;
  if (typeof c.checkpoint_id !== 'string' || !isNullishString(c.checkpoint_ns) || !isNullishRecord(c.checkpoint_map)) return null;
  return {
    thread_id: c.thread_id,
    checkpoint_id: c.checkpoint_id,
    checkpoint_ns: (c.checkpoint_ns as string | undefined) || '',
    checkpoint_map: (c.checkpoint_map as Record<string, unknown> | undefined) || null,
  };
}

/** As `checkpointOf`, for a task's state config, whose checkpoint id may be missing (then null). */
export function taskCheckpointOf(config: RunnableConfig | null | undefined): TaskCheckpointRef | null {
  const c = configurableOf(config);
  if (!c || !c.thread_id || typeof c.thread_id !== 'string') return null;
  if (!isNullishString(c.checkpoint_id) || !isNullishString(c.checkpoint_ns) || !isNullishRecord(c.checkpoint_map)) return null;
  return {
    thread_id: c.thread_id,
    checkpoint_id: (c.checkpoint_id as string | undefined) || null,
    checkpoint_ns: (c.checkpoint_ns as string | undefined) || '',
    checkpoint_map: (c.checkpoint_map as Record<string, unknown> | undefined) || null,
  };
}

const isSnapshot = (state: unknown): state is StateSnapshot =>
  state != null && typeof state === 'object' && 'values' in state && 'next' in state;

/** A LangGraph `StateSnapshot` as the thread state the API answers. */
export function toThreadState(snapshot: StateSnapshot): ThreadState {
  return {
    values: snapshot.values,
    next: snapshot.next as string[],
    tasks: snapshot.tasks.map((task) => {
      const state = task.state as unknown;
      return {
        id: task.id,
        name: task.name,
        error: task.error != null ? serializeError(task.error).message : null,
        interrupts: task.interrupts as unknown[],
        path: task.path as unknown[] | undefined,
        checkpoint: state != null && typeof state === 'object' && 'configurable' in state ? (configurableOf(state) ?? null) : null,
        state: isSnapshot(state) ? toThreadState(state) : null,
        result: task.result ?? null,
      };
    }),
    metadata: snapshot.metadata as Record<string, unknown> | undefined,
    created_at: snapshot.createdAt ? new Date(snapshot.createdAt).toISOString() : null,
    checkpoint: checkpointOf(snapshot.config),
    parent_checkpoint: checkpointOf(snapshot.parentConfig),
  };
}

export interface ThreadUpdate {
  status: 'idle' | 'interrupted' | 'error';
  /** The final checkpoint's channel values (null when the thread has no checkpoint). */
  values: unknown;
  /** Pending tasks' interrupts by task id (a pending task without interrupts is listed with `[]`, as the reference does). */
  interrupts: Record<string, unknown[]>;
}

interface StateReader {
  getState(config: RunnableConfig): Promise<StateSnapshot>;
}

/**
 * What a thread becomes after a run on it: `error` when the run failed (`error` given), else
 * `interrupted` when the final checkpoint has tasks still to run (an interrupt, or
 * interrupt_before/after), else `idle`; its values and interrupts from that checkpoint. (Whether
 * other runs are pending — `busy` — is the run queue's to know.) `config` names the thread
 * (`configurable.thread_id`, and `checkpoint_ns` for a subgraph); `graph` is bound to the thread's
 * checkpointer.
 */
export async function threadUpdateAfterRun(graph: StateReader, config: RunnableConfig, error?: unknown): Promise<ThreadUpdate> {
  const { thread_id, checkpoint_ns } = configurableOf(config) ?? {};
  const snapshot = await graph.getState({ configurable: { thread_id, ...(checkpoint_ns != null && { checkpoint_ns }) } });
  const exists = checkpointOf(snapshot.config) != null;
  const interrupts: Record<string, unknown[]> = {};
  if (exists) for (const task of snapshot.tasks) if (task.interrupts) interrupts[task.id] = task.interrupts as unknown[];
  const status = error != null ? 'error' : exists && snapshot.next.length > 0 ? 'interrupted' : 'idle';
  return { status, values: exists ? snapshot.values : null, interrupts };
}
