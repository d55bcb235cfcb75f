import type { RunnableConfig } from '@langchain/core/runnables';
import { HttpError } from '../../protocol/http-error';
import type { Thread } from '../agent-types';
import { toCommand } from '../execution/run-stream';
import { toThreadState, type ThreadState } from '../execution/thread-state';
import type { GraphLoader } from '../graphs/graph-loader';
import type { AgentRouteHandlers } from '../http/agent-api';
import { json, selectFields } from '../http/agent-reply';
import { parseBody, ThreadCreateSchema, ThreadHistorySchema, ThreadPatchSchema, ThreadSearchSchema, ThreadStateUpdateSchema } from '../http/agent-request-schemas';
import type { ThreadRepository } from '../storage/thread-repository';

/** The state of a thread no run has touched (no graph yet), as the reference answers it. */
const EMPTY_STATE: ThreadState = { values: {}, next: [], tasks: [], metadata: undefined, created_at: null, checkpoint: null, parent_checkpoint: null };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Thread ids are UUIDs on this API: anything else is a 422 naming the parameter, before any lookup. */
export function threadIdParam(value: string): string {
  if (!UUID.test(value)) throw new HttpError(422, `thread_id: must be a UUID (got ${JSON.stringify(value.slice(0, 64))})`);
  return value;
}

/** Which graph a thread's state belongs to: set on the thread by its first run. */
export const graphIdOf = (thread: Thread): string | undefined => (typeof thread.metadata?.graph_id === 'string' ? thread.metadata.graph_id : undefined);

export interface ThreadRouteDeps {
  threads: ThreadRepository;
  graphs: GraphLoader;
  /** Whether the thread has a pending or running run (a state update is refused then: 409). */
  busy(threadId: string): Promise<boolean>;
}

/** Threads and their state (the checkpointer's: state, history, updates). */
export function threadRoutes({ threads, graphs, busy }: ThreadRouteDeps): AgentRouteHandlers {
  /** The thread's graph (its metadata's graph_id), bound to the checkpointer; undefined without one. */
  const graphOf = async (thread: Thread) => {
    const graphId = graphIdOf(thread);
    return graphId ? await graphs.load(graphId, thread.config as RunnableConfig) : undefined;
  };
  const stateGraph = async (threadId: string) => {
    const thread = await threads.get(threadId);
    return { thread, graph: await graphOf(thread) };
  };
  /** After a state change outside a run: the thread's values, interrupts and status as its new state has them. */
  const refreshThread = async (thread: Thread, graph: NonNullable<Awaited<ReturnType<typeof graphOf>>>) => {
    const state = await graph.getState({ configurable: { thread_id: thread.thread_id } });
    const interrupts: Record<string, unknown[]> = {};
    for (const task of state.tasks) if (task.interrupts?.length) interrupts[task.id] = task.interrupts as unknown[];
    const status = Object.keys(interrupts).length ? 'interrupted' : thread.status === 'error' ? 'error' : 'idle';
    await threads.setStatus(thread.thread_id, { status, values: state.values, interrupts });
    return { ...thread, status, values: state.values, interrupts };
  };
  const stateAt = async (threadId: string, checkpoint: Record<string, unknown>, subgraphs: boolean) => {
    const { graph } = await stateGraph(threadId);
    if (!graph) return EMPTY_STATE;
    const snapshot = await graph.getState({ configurable: { ...checkpoint, thread_id: threadId } }, { subgraphs });
    if (snapshot.metadata && (snapshot.metadata as Record<string, unknown>).checkpoint_ns === '') delete (snapshot.metadata as Record<string, unknown>).checkpoint_ns;
    return toThreadState(snapshot);
  };
  const history = async (threadId: string, options: { limit: number; before?: unknown; metadata?: Record<string, unknown>; checkpoint?: Record<string, unknown> }) => {
    const { graph } = await stateGraph(threadId);
    if (!graph) return [];
    const before = typeof options.before === 'string' ? { configurable: { checkpoint_id: options.before } } : (options.before as RunnableConfig | undefined);
    const out: ThreadState[] = [];
    for await (const snapshot of graph.getStateHistory(
      { configurable: { thread_id: threadId, checkpoint_ns: '', ...options.checkpoint } },
      { limit: options.limit, before, filter: options.metadata },
    ))
      out.push(toThreadState(snapshot));
    return out;
  };
  return {
    'threads.create': async (r) => {
      const body = parseBody(ThreadCreateSchema, await r.body());
      const thread = await threads.create({ thread_id: body.thread_id ?? undefined, metadata: body.metadata ?? undefined, if_exists: body.if_exists ?? undefined });
      if (!body.supersteps?.length) return json(thread);
      // A thread made with its history: each superstep's updates applied as one step, as if the
      // nodes named had run (the reference's bulk update). Its graph is the metadata's graph_id.
      const graph = await graphOf(thread);
      if (!graph) throw new HttpError(400, `Thread ${thread.thread_id} has no graph ID`);
      await graph.bulkUpdateState(
        { configurable: { thread_id: thread.thread_id, checkpoint_ns: '' } },
        body.supersteps.map((step) => ({ updates: step.updates.map((u) => ({ values: u.command != null ? toCommand(u.command) : u.values, asNode: u.as_node })) })),
      );
      return json(await refreshThread(thread, graph));
    },
    'threads.search': async (r) => {
      const body = parseBody(ThreadSearchSchema, await r.body());
      const limit = body.limit ?? 10;
      const offset = body.offset ?? 0;
      const found = await threads.search({
        ids: body.ids ?? undefined,
        metadata: body.metadata ?? undefined,
        values: body.values ?? undefined,
        status: body.status ?? undefined,
        limit,
        offset,
        sort_by: body.sort_by ?? undefined,
        sort_order: body.sort_order ?? undefined,
      });
      const select = body.select;
      const rows = found.map((t) => selectFields(t as unknown as Record<string, unknown>, select));
      const headers: Record<string, string> =
        found.length === limit ? { 'x-pagination-next': String(offset + limit) } : { 'x-pagination-total': String(offset + found.length) };
      return json(rows, 200, headers);
    },
    'threads.count': async (r) => {
      const body = parseBody(ThreadSearchSchema, await r.body());
      return json(await threads.count({ ids: body.ids ?? undefined, metadata: body.metadata ?? undefined, values: body.values ?? undefined, status: body.status ?? undefined }));
    },
    'threads.get': async (r) => json(await threads.get(threadIdParam(r.params.thread_id))),
    'threads.patch': async (r) => {
      const body = parseBody(ThreadPatchSchema, await r.body());
      return json(await threads.patch(threadIdParam(r.params.thread_id), { metadata: body.metadata }));
    },
    'threads.delete': async (r) => {
      await threads.delete(threadIdParam(r.params.thread_id));
      return { kind: 'empty', status: 204 };
    },
    'threads.copy': async (r) => json(await threads.copy(threadIdParam(r.params.thread_id))),
    'threads.state': async (r) => json(await stateAt(threadIdParam(r.params.thread_id), {}, r.query.get('subgraphs') === 'true')),
    'threads.stateAtCheckpoint': async (r) =>
      json(await stateAt(threadIdParam(r.params.thread_id), { checkpoint_id: r.params.checkpoint_id }, r.query.get('subgraphs') === 'true')),
    'threads.stateAtCheckpointPost': async (r) => {
      const body = (await r.body()) as { checkpoint?: Record<string, unknown>; subgraphs?: boolean };
      return json(await stateAt(threadIdParam(r.params.thread_id), body?.checkpoint ?? {}, body?.subgraphs === true));
    },
    'threads.updateState': async (r) => {
      const threadId = threadIdParam(r.params.thread_id);
      const body = parseBody(ThreadStateUpdateSchema, await r.body());
      const { thread, graph } = await stateGraph(threadId);
      if (!graph) throw new HttpError(400, `Thread ${threadId} has no graph ID`);
      if (await busy(threadId)) throw new HttpError(409, 'Thread is busy');
      const configurable: Record<string, unknown> = { thread_id: threadId, checkpoint_ns: '', graph_id: graphIdOf(thread), ...body.checkpoint };
      if (body.checkpoint_id) configurable.checkpoint_id = body.checkpoint_id;
      const next = await graph.updateState({ configurable }, body.values, body.as_node ?? undefined);
      await refreshThread(thread, graph);
      return json({ checkpoint: next.configurable });
    },
    'threads.history': async (r) => {
      const threadId = threadIdParam(r.params.thread_id);
      const limit = Number(r.query.get('limit') ?? 10);
      if (!Number.isInteger(limit) || limit < 1) throw new HttpError(422, 'limit: must be a positive integer');
      return json(await history(threadId, { limit, before: r.query.get('before') ?? undefined }));
    },
    'threads.historyPost': async (r) => {
      const threadId = threadIdParam(r.params.thread_id);
      const body = parseBody(ThreadHistorySchema, await r.body());
      return json(await history(threadId, { limit: body.limit ?? 10, before: body.before ?? undefined, metadata: body.metadata ?? undefined, checkpoint: body.checkpoint ?? undefined }));
    },
  };
}
