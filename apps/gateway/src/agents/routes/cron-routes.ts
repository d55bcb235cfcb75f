import type { AgentRequest, AgentRouteHandlers } from '../http/agent-api';
import { json, selectFields } from '../http/agent-reply';
import { CronCountSchema, type CronCreate, CronCreateSchema, CronPatchSchema, CronSearchSchema, parseBody } from '../http/agent-request-schemas';
import { nextRunDate } from '../crons/cron-schedule';
import type { GraphLoader } from '../graphs/graph-loader';
import type { AssistantRepository } from '../storage/assistant-repository';
import type { CronPatch, CronRepository } from '../storage/cron-repository';
import type { ThreadRepository } from '../storage/thread-repository';
import { threadIdParam } from './thread-routes';

export interface CronRouteDeps {
  crons: CronRepository;
  assistants: AssistantRepository;
  threads: ThreadRepository;
  graphs: GraphLoader;
}


/** The body's fields that are the cron's own, not the run's it creates. */
const CRON_FIELDS = new Set(['schedule', 'end_time', 'enabled', 'on_run_completed']);

/** The run fields of a request (nulls and undefined left out): a cron's payload, or a change to it. */
function runFields(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([k, v]) => !CRON_FIELDS.has(k) && v !== undefined && v !== null));
}

/**
 * Crons: a run created on a schedule (5-field cron expression, UTC), on a thread or stateless (a new
 * thread each time). Stored here; fired by every replica's CronScheduler (crons/cron-scheduler.ts).
 */
export function cronRoutes({ crons, assistants, threads, graphs }: CronRouteDeps): AgentRouteHandlers {
  const create = async (r: AgentRequest, threadId: string | undefined) => {
    const body: CronCreate = parseBody(CronCreateSchema, await r.body());
    if (threadId !== undefined) await threads.get(threadId);
    const assistantId = graphs.assistantId(body.assistant_id);
    await assistants.get(assistantId);
    const cron = await crons.create({
      assistant_id: assistantId,
      thread_id: threadId,
      schedule: body.schedule,
      payload: { ...runFields(body), assistant_id: assistantId },
      metadata: body.metadata ?? {},
      end_time: body.end_time ? new Date(body.end_time) : null,
      next_run_date: nextRunDate(body.schedule, new Date()),
      enabled: body.enabled ?? true,
      on_run_completed: threadId === undefined ? (body.on_run_completed ?? 'delete') : null,
      user_id: r.identity?.name,
      user_scopes: r.identity?.scopes.list,
    });
    return json(cron);
  };
  return {
    'crons.create': (r) => create(r, undefined),
    'crons.createForThread': (r) => create(r, threadIdParam(r.params.thread_id)),
    'crons.search': async (r) => {
      const body = parseBody(CronSearchSchema, await r.body());
      const found = await crons.search({
        assistant_id: body.assistant_id ?? undefined,
        thread_id: body.thread_id ?? undefined,
        enabled: body.enabled ?? undefined,
        limit: body.limit ?? 10,
        offset: body.offset ?? 0,
        sort_by: body.sort_by ?? undefined,
        sort_order: body.sort_order ?? undefined,
      });
      return json(found.map((c) => selectFields(c as unknown as Record<string, unknown>, body.select)));
    },
    'crons.count': async (r) => {
      const body = parseBody(CronCountSchema, await r.body());
      return json(await crons.count({ assistant_id: body.assistant_id ?? undefined, thread_id: body.thread_id ?? undefined, enabled: body.enabled ?? undefined }));
    },
    'crons.update': async (r) => {
      const body = parseBody(CronPatchSchema, await r.body());
      const updated = await crons.update(r.params.cron_id, (cron) => {
        const patch: CronPatch = {};
        const now = new Date();
        if (body.schedule != null) {
          patch.schedule = body.schedule;
          patch.next_run_date = nextRunDate(body.schedule, now);
        }
        // A cron enabled again starts from now: the ticks it missed while disabled are not fired.
        if (body.enabled === true && !cron.enabled) patch.next_run_date ??= nextRunDate(cron.schedule, now);
        if (body.enabled != null) patch.enabled = body.enabled;
        if (body.end_time !== undefined) patch.end_time = body.end_time === null ? null : new Date(body.end_time);
        if (body.on_run_completed != null && cron.thread_id === null) patch.on_run_completed = body.on_run_completed;
        if (body.metadata != null) patch.metadata = body.metadata;
        const fields = runFields(body);
        if (Object.keys(fields).length > 0) patch.payload = fields;
        return patch;
      });
      return json(updated);
    },
    'crons.delete': async (r) => {
      await crons.delete(r.params.cron_id);
      return { kind: 'empty', status: 204 };
    },
  };
}
