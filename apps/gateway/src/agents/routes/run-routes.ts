import { HttpError } from '../../protocol/http-error';
import type { Run } from '../agent-types';
import type { AgentRequest, AgentRouteHandlers } from '../http/agent-api';
import { type AgentReply, json, type SseEvent } from '../http/agent-reply';
import { parseBody, RunCreateSchema, type RunCreate } from '../http/agent-request-schemas';
import type { RunCaller, RunService } from '../runs/run-service';
import type { RunRepository } from '../storage/run-repository';
import type { ThreadRepository } from '../storage/thread-repository';
import { threadIdParam } from './thread-routes';

export interface RunRouteDeps {
  service: RunService;
  runs: RunRepository;
  threads: ThreadRepository;
}

const callerOf = (r: AgentRequest): RunCaller | undefined => (r.identity ? { name: r.identity.name, scopes: r.identity.scopes.list } : undefined);

const RUN_STATUSES = new Set(['pending', 'running', 'error', 'success', 'timeout', 'interrupted']);

/** Runs: created in the background, waited for, streamed, joined, cancelled; on a thread or stateless. */
export function runRoutes({ service, runs, threads }: RunRouteDeps): AgentRouteHandlers {
  const create = async (r: AgentRequest, threadId: string | undefined): Promise<{ run: Run; body: RunCreate }> => {
    const body = parseBody(RunCreateSchema, await r.body());
    const run = await service.create(threadId, body, callerOf(r), r.req.headers);
    return { run, body };
  };
  const location = (run: Run, stateless: boolean) => ({ 'content-location': stateless ? `/runs/${run.run_id}` : `/threads/${run.thread_id}/runs/${run.run_id}` });

  /** A run created and streamed at once: its events from the start; a disconnect cancels it when asked (`on_disconnect: cancel`). */
  const stream = async (r: AgentRequest, threadId: string | undefined): Promise<AgentReply> => {
    const { run, body } = await create(r, threadId);
    // The run goes on when the client leaves unless asked otherwise (the reference's default, `continue`).
    if (body.on_disconnect === 'cancel') cancelOnDisconnect(r, run);
    return { kind: 'sse', events: service.events(run, '0-0', r.signal), headers: location(run, threadId === undefined) };
  };
  const wait = async (r: AgentRequest, threadId: string | undefined): Promise<AgentReply> => {
    const { run, body } = await create(r, threadId);
    if (body.on_disconnect === 'cancel') cancelOnDisconnect(r, run);
    return { kind: 'slow-json', body: service.result(run, r.signal), headers: location(run, threadId === undefined) };
  };
  const cancelOnDisconnect = (r: AgentRequest, run: Run) => {
    r.signal.addEventListener('abort', () => {
      void service.cancel(run.thread_id, [run.run_id], 'interrupt').catch(() => undefined);
    });
  };
  const joinStream = async (r: AgentRequest, run: Run): Promise<AgentReply> => {
    const lastEventId = headerOf(r, 'last-event-id');
    if (isTrue(r.query.get('cancel_on_disconnect'))) cancelOnDisconnect(r, run);
    // Without Last-Event-ID a join of a run still pending or running gets its events from the start
    // (its `metadata` first), as the reference's join of a background run does; a resumable run is
    // replayed from the start even when it has ended; a non-resumable run that has ended gives nothing more.
    const active = run.status === 'pending' || run.status === 'running';
    const after = lastEventId ?? (run.kwargs.resumable || active ? '0-0' : await service.liveFrom(run));
    const modes = r.query.getAll('stream_mode');
    return { kind: 'sse', events: onlyModes(service.events(run, after, r.signal), modes) };
  };

  return {
    'runs.create': async (r) => {
      const { run } = await create(r, threadIdParam(r.params.thread_id));
      return json(run, 200, location(run, false));
    },
    'runs.createStateless': async (r) => {
      const { run } = await create(r, undefined);
      return json(run, 200, location(run, true));
    },
    'runs.stream': (r) => stream(r, threadIdParam(r.params.thread_id)),
    'runs.streamStateless': (r) => stream(r, undefined),
    'runs.wait': (r) => wait(r, threadIdParam(r.params.thread_id)),
    'runs.waitStateless': (r) => wait(r, undefined),
    'runs.batch': async (r) => {
      const body = await r.body();
      if (!Array.isArray(body)) throw new HttpError(422, 'body: must be an array of runs');
      const created: Run[] = [];
      for (const [i, item] of body.entries()) {
        const parsed = (() => {
          try {
            return parseBody(RunCreateSchema, item);
          } catch (err) {
            throw new HttpError(422, `[${i}].${(err as HttpError).detail}`);
          }
        })();
        created.push(await service.create(undefined, parsed, callerOf(r), r.req.headers));
      }
      return json(created);
    },
    'runs.list': async (r) => {
      const threadId = threadIdParam(r.params.thread_id);
      await threads.get(threadId);
      const status = r.query.get('status') ?? undefined;
      if (status !== undefined && !RUN_STATUSES.has(status)) throw new HttpError(422, `status: must be one of ${[...RUN_STATUSES].join(', ')}`);
      const limit = intParam(r, 'limit', 10);
      const offset = intParam(r, 'offset', 0);
      return json(await runs.list(threadId, { limit, offset, status: status as Run['status'] | undefined }));
    },
    'runs.get': async (r) => json(await runs.get(r.params.run_id, threadIdParam(r.params.thread_id))),
    'runs.delete': async (r) => {
      await runs.delete(r.params.run_id, threadIdParam(r.params.thread_id));
      return { kind: 'empty', status: 204 };
    },
    'runs.join': async (r) => {
      const run = await runs.get(r.params.run_id, threadIdParam(r.params.thread_id));
      return { kind: 'slow-json', body: service.result(run, r.signal) };
    },
    'runs.joinStream': async (r) => joinStream(r, await runs.get(r.params.run_id, threadIdParam(r.params.thread_id))),
    'runs.joinStreamStateless': async (r) => joinStream(r, await runs.get(r.params.run_id)),
    'runs.cancel': async (r) => {
      const threadId = threadIdParam(r.params.thread_id);
      const run = await runs.get(r.params.run_id, threadId);
      const action = r.query.get('action') ?? 'interrupt';
      if (action !== 'interrupt' && action !== 'rollback') throw new HttpError(422, 'action: must be interrupt or rollback');
      await service.cancel(threadId, [run.run_id], action);
      if (isTrue(r.query.get('wait'))) {
        await service.settled(run, r.signal);
        return { kind: 'empty', status: 204 };
      }
      return { kind: 'empty', status: 202 };
    },
  };
}

function headerOf(r: AgentRequest, name: string): string | undefined {
  const v = r.req.headers[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function intParam(r: AgentRequest, name: string, fallback: number): number {
  const raw = r.query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(422, `${name}: must be a non-negative integer`);
  return n;
}

const isTrue = (v: string | null): boolean => v === 'true' || v === '1';

/**
 * joinStream's `stream_mode`: only the events of those modes (a subgraph's `mode|ns` too;
 * `messages-tuple` is sent as `messages`), plus `metadata` and `error`, which every stream carries.
 */
async function* onlyModes(events: AsyncIterable<SseEvent>, modes: string[]): AsyncGenerator<SseEvent> {
  if (modes.length === 0) return yield* events;
  const wanted = new Set(modes.map((m) => (m === 'messages-tuple' ? 'messages' : m)));
  for await (const e of events) {
    const mode = e.event.split('|')[0].split('/')[0];
    if (e.event === 'metadata' || e.event === 'error' || wanted.has(mode)) yield e;
  }
}
