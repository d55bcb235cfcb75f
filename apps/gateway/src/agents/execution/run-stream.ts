import { createRequire } from 'node:module';
import { isBaseMessage, type BaseMessage, type BaseMessageChunk } from '@langchain/core/messages';
import { Command, Send } from '@langchain/langgraph';
import type { AgentEvent, Run, RunKwargs, StreamMode } from '../agent-types';
import type { CompiledGraph } from './graph-binding';
import { checkpointOf, taskCheckpointOf, type CheckpointRef } from './thread-state';

/** A `debug` checkpoint payload (and a `checkpoints` event's data) as the API sends it. */
export interface CheckpointPayload {
  config: unknown;
  parent_config: unknown;
  checkpoint: CheckpointRef | null;
  parent_checkpoint: CheckpointRef | null;
  values: unknown;
  metadata: Record<string, unknown>;
  next: string[];
  tasks: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface ExecuteRunOptions {
  /** Bound to the thread's checkpointer and the store (see bindGraph). */
  graph: CompiledGraph;
  /** 1 for the first execution of the run, 2 for its first retry... */
  attempt: number;
  /** Aborting it stops the graph within its current step (the stream then throws). */
  signal?: AbortSignal;
  /** Every checkpoint the run makes (the root graph's, and with `subgraphs` its subgraphs'), post-processed as sent. */
  onCheckpoint?: (checkpoint: CheckpointPayload) => void;
  /**
   * Every state of the root graph (its `values` chunks), whether or not the run streams `values`:
   * what a webhook reports of a run without a checkpointer (a stateless one), which makes no
   * checkpoints. Asks the graph for `values` when the run did not.
   */
  onValues?: (values: unknown) => void;
}

/** The installed @langchain/langgraph's version (`langgraph_version` in run metadata, `/info`). */
export const LANGGRAPH_VERSION: string = (() => {
  try {
    return (createRequire(__filename)('@langchain/langgraph/package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

type Goto = string | { node: string; input?: unknown };

/** A run's `command` as a LangGraph Command: `goto` one node or a list, each a name or `{node, input}` (a Send). */
export function toCommand(command: NonNullable<RunKwargs['command']>): Command {
  const goto = command.goto == null ? undefined : Array.isArray(command.goto) ? (command.goto as Goto[]) : [command.goto as Goto];
  return new Command({
    goto: goto?.map((item) => (typeof item === 'string' ? item : new Send(item.node, item.input))),
    update: command.update as Record<string, unknown> | undefined,
    resume: command.resume,
  });
}

const hasConfigurable = (config: unknown): config is { configurable: Record<string, unknown> } =>
  typeof config === 'object' &&
  config != null &&
  typeof (config as { configurable?: unknown }).configurable === 'object' &&
  (config as { configurable?: unknown }).configurable != null;

/** A config as sent: without LangGraph's internal `__pregel_*` configurable entries, nor callbacks. */
function publicConfig(config: unknown): unknown {
  if (!hasConfigurable(config)) return config;
  const { callbacks: _callbacks, ...rest } = config as Record<string, unknown>;
  return { ...rest, configurable: Object.fromEntries(Object.entries(config.configurable).filter(([key]) => !key.startsWith('__'))) };
}

/** A task whose `state` is a (subgraph) config: the config replaced by its `checkpoint`. */
function publicTask<T extends Record<string, unknown>>(task: T): T {
  const checkpoint = hasConfigurable(task.state) ? taskCheckpointOf(task.state as never) : null;
  if (!checkpoint) return task;
  const { state: _state, ...rest } = task;
  return { ...rest, checkpoint } as unknown as T;
}

const isCheckpointPayload = (chunk: unknown): chunk is Record<string, unknown> =>
  typeof chunk === 'object' && chunk != null && Array.isArray((chunk as { tasks?: unknown }).tasks);

function publicCheckpoint(payload: Record<string, unknown>): CheckpointPayload {

  const { parentConfig, ...rest } = payload;
  return {
    ...rest,
    checkpoint: checkpointOf(payload.config as never),
    parent_checkpoint: checkpointOf(parentConfig as never),
    tasks: (payload.tasks as Array<Record<string, unknown>>).map(publicTask),
    config: publicConfig(payload.config),
    parent_config: publicConfig(parentConfig),
  } as CheckpointPayload;
}

interface StreamEvent {
  event: string;
  run_id: string;
  tags?: string[];
  metadata: Record<string, unknown>;
  data: { chunk?: unknown };
}

/** The graph's own stream as the root's `on_chain_stream` events streamEvents would give. */
async function* rootChunks(runId: string, chunks: AsyncIterable<unknown>): AsyncGenerator<StreamEvent> {
  for await (const chunk of chunks) yield { event: 'on_chain_stream', run_id: runId, metadata: {}, data: { chunk } };
}

/**
 * Executes a run and yields its stream as the LangGraph Platform sends it: `metadata {run_id,
 * attempt}` first, then for each requested stream mode its events (`<mode>`, or `<mode>|<ns>` for
 * a subgraph's with `subgraphs`): `values`, `updates`, `custom`, `debug`, `tasks`, `checkpoints`
 * as the graph streams them (checkpoint payloads with `checkpoint`/`parent_checkpoint` and
 * without internal config); `messages-tuple` as `messages` `[chunk, metadata]`; `messages` as
 * `messages/metadata`, `messages/partial` (the message so far, from chat model tokens) and
 * `messages/complete` (messages that appear in the state); `events` as every streamEvents v2
 * event but the root's own `on_chain_stream`. A failure (or an abort) is thrown.
 */
export async function* executeRun(run: Run, opts: ExecuteRunOptions): AsyncGenerator<AgentEvent> {
  const kwargs = run.kwargs;
  const userModes: StreamMode[] = kwargs.stream_mode ?? [];
  // What the graph is asked for: `events` is streamEvents itself, `messages-tuple` is the graph's
  // `messages`, `messages` here needs `values` (the complete messages come from the state), and
  // `debug` always (it carries the checkpoints).
  const graphModes = new Set<string>(userModes.filter((mode) => mode !== 'events' && mode !== 'messages-tuple'));
  if (userModes.includes('messages-tuple')) graphModes.add('messages');
  if (userModes.includes('messages') || opts.onValues) graphModes.add('values');
  graphModes.add('debug');

  yield { event: 'metadata', data: { run_id: run.run_id, attempt: opts.attempt } };

  const metadata = {
    ...kwargs.config?.metadata,
    run_attempt: opts.attempt,
    langgraph_version: LANGGRAPH_VERSION,
    langgraph_plan: 'developer',
    langgraph_host: 'self-hosted',
    langgraph_api_url: process.env.LANGGRAPH_API_URL ?? undefined,
  };
  const input = kwargs.command != null ? toCommand(kwargs.command) : (kwargs.input ?? null);
  const config = {
    interruptAfter: kwargs.interrupt_after,
    interruptBefore: kwargs.interrupt_before,
    tags: kwargs.config?.tags,
    context: kwargs.context,
    configurable: kwargs.config?.configurable,
    recursionLimit: kwargs.config?.recursion_limit,
    subgraphs: kwargs.subgraphs,
    metadata,
    runId: run.run_id,
    streamMode: [...graphModes],
    signal: opts.signal,
    ...(kwargs.durability && { durability: kwargs.durability }),
  };
  // streamEvents (a callback handler on every runnable: its cost is most of a small graph's) only
  // when its own events are needed: `events`, or `messages` (chat model tokens). Otherwise the
  // graph's own stream gives the same root chunks, which are all the other modes use. But with
  // `subgraphs` (a subgraph's checkpoint configs then carry its `run_name`, which streamEvents'
  // do not), and for a root tagged `langsmith:hidden` (streamEvents hides its every event, its
  // chunks too), it stays streamEvents: the events are the reference's either way.
  const needsEvents =
    userModes.includes('events') || userModes.includes('messages') || kwargs.subgraphs === true || (kwargs.config?.tags ?? []).includes('langsmith:hidden');
  const events: AsyncIterable<StreamEvent> = needsEvents
    ? (opts.graph.streamEvents(input, { ...config, version: 'v2' } as never) as unknown as AsyncIterable<StreamEvent>)
    : rootChunks(run.run_id, await opts.graph.stream(input, config as never));

  const partials: Record<string, BaseMessageChunk> = {};
  const completed = new Set<string>();
  for await (const event of events) {
    if (event.tags?.includes('langsmith:hidden')) continue;
    const rootStream = event.event === 'on_chain_stream' && event.run_id === run.run_id;
    if (rootStream) {
      const [ns, mode, chunk] = (kwargs.subgraphs ? event.data.chunk : [null, ...(event.data.chunk as unknown[])]) as [
        string[] | null,
        string,
        unknown,
      ];
      let data = chunk;
      if (mode === 'debug') {
        const debug = chunk as { type: string; payload: Record<string, unknown> };
        if (debug.type === 'checkpoint' && isCheckpointPayload(debug.payload)) {
          const payload = publicCheckpoint(debug.payload);
          opts.onCheckpoint?.(payload);
          data = { ...debug, payload };
        } else if (debug.type === 'task_result') {
          data = { ...debug, payload: publicTask(debug.payload) };
        }
      } else if (mode === 'checkpoints' && isCheckpointPayload(chunk)) {
        // (LangGraph 1.7 also streams a subgraph's `checkpoints` as a bare `{id, parent_id, step,
        // source}` before its `values`: not a checkpoint payload, so it passes as it is. The
        // reference fails the run on it, reading its missing `tasks`.)
        const payload = publicCheckpoint(chunk as Record<string, unknown>);
        opts.onCheckpoint?.(payload);
        data = payload;
      } else if (mode === 'tasks') {
        data = publicTask(chunk as Record<string, unknown>);
      }
      if (mode === 'values' && !ns?.length) opts.onValues?.(chunk);
      const suffix = kwargs.subgraphs && ns?.length ? `|${ns.join('|')}` : '';
      if (mode === 'messages') {
        if (userModes.includes('messages-tuple')) yield { event: `messages${suffix}`, data };
      } else if (userModes.includes(mode as StreamMode)) {
        yield { event: `${mode}${suffix}`, data };
      }
    } else if (userModes.includes('events')) {
      yield { event: 'events', data: event };
    }

    if (!userModes.includes('messages')) continue;
    if (rootStream) {
      // As the reference: the state's messages, read from the chunk's second element; with
      // `subgraphs` that element is the mode (the chunk is [ns, mode, data]), so none are found.
      const [, chunk] = event.data.chunk as [unknown, unknown];
      let found: unknown = [];
      if (typeof chunk === 'object' && chunk != null && 'messages' in chunk && !isBaseMessage(chunk)) found = (chunk as { messages: unknown }).messages;
      const list = (Array.isArray(found) ? found : [found]) as BaseMessage[];
      const fresh = list.filter((message) => {
        if (!message?.id || completed.has(message.id)) return false;
        completed.add(message.id);
        return true;
      });
      if (fresh.length > 0) yield { event: 'messages/complete', data: fresh };
    } else if (event.event === 'on_chat_model_stream' && !event.tags?.includes('nostream')) {
      const message = event.data.chunk as BaseMessageChunk;
      if (!message.id) continue;
      if (partials[message.id] == null) {
        partials[message.id] = message;
        yield { event: 'messages/metadata', data: { [message.id]: { metadata: event.metadata } } };
      } else {
        partials[message.id] = partials[message.id].concat(message);
      }
      yield { event: 'messages/partial', data: [partials[message.id]] };
    }
  }
}
