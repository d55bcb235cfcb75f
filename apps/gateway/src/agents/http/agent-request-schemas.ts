import { z } from 'zod';
import { RequestValidationError } from '../../protocol/http-error';
import { STREAM_MODES } from '../agent-types';
import { scheduleProblem } from '../crons/cron-schedule';

/**
 * Request bodies of the LangGraph Platform API, checked before anything runs: a bad field is a 422
 * whose `detail` names it (`stream_mode[1]: …`). Unknown fields are ignored, as the reference does
 * (clients of newer SDKs send fields an older server does not know).
 */

const json = z.record(z.string(), z.unknown());
const streamMode = z.enum(STREAM_MODES as [string, ...string[]]);
const interruptNodes = z.union([z.literal('*'), z.array(z.string())]);
const config = z
  .object({
    tags: z.array(z.string()).optional(),
    recursion_limit: z.number().int().positive().optional(),
    configurable: json.optional(),
    metadata: json.optional(),
  })
  .passthrough();
const command = z.object({
  resume: z.unknown().optional(),
  update: z.unknown().optional(),
  goto: z.unknown().optional(),
});

export const RunCreateSchema = z.object({
  assistant_id: z.string().min(1),
  input: z.unknown().optional(),
  command: command.nullish(),
  stream_mode: z.union([streamMode, z.array(streamMode)]).optional(),
  stream_subgraphs: z.boolean().optional(),
  stream_resumable: z.boolean().optional(),
  metadata: json.nullish(),
  config: config.nullish(),
  context: z.unknown().optional(),
  checkpoint_id: z.string().nullish(),
  checkpoint: json.nullish(),
  interrupt_before: interruptNodes.nullish(),
  interrupt_after: interruptNodes.nullish(),
  multitask_strategy: z.enum(['reject', 'rollback', 'interrupt', 'enqueue']).nullish(),
  on_disconnect: z.enum(['cancel', 'continue']).nullish(),
  on_completion: z.enum(['delete', 'keep']).nullish(),
  if_not_exists: z.enum(['create', 'reject']).nullish(),
  after_seconds: z.number().nonnegative().nullish(),
  webhook: z.url({ protocol: /^https?$/ }).nullish(),
  feedback_keys: z.union([z.string(), z.array(z.string())]).nullish(),
  durability: z.enum(['sync', 'async', 'exit']).nullish(),
});
export type RunCreate = z.infer<typeof RunCreateSchema>;

export const ThreadCreateSchema = z.object({
  thread_id: z.uuid().nullish(),
  metadata: json.nullish(),
  if_exists: z.enum(['raise', 'do_nothing']).nullish(),
  supersteps: z
    .array(z.object({ updates: z.array(z.object({ values: z.unknown(), command: command.nullish(), as_node: z.string() })) }))
    .nullish(),
});

const sortOrder = z.enum(['asc', 'desc']).nullish();
const limit = z.number().int().min(1).max(1000).nullish();
const offset = z.number().int().min(0).nullish();

export const ThreadSearchSchema = z.object({
  ids: z.array(z.string()).nullish(),
  metadata: json.nullish(),
  values: json.nullish(),
  status: z.enum(['idle', 'busy', 'interrupted', 'error']).nullish(),
  limit,
  offset,
  sort_by: z.enum(['thread_id', 'status', 'created_at', 'updated_at']).nullish(),
  sort_order: sortOrder,
  select: z.array(z.string()).nullish(),
});

export const ThreadPatchSchema = z.object({ metadata: json });

export const ThreadStateUpdateSchema = z.object({
  values: z.unknown().optional(),
  as_node: z.string().nullish(),
  checkpoint_id: z.string().nullish(),
  checkpoint: json.nullish(),
});

export const ThreadHistorySchema = z.object({
  limit: z.number().int().min(1).max(1000).nullish(),
  before: z.union([z.string(), json]).nullish(),
  metadata: json.nullish(),
  checkpoint: json.nullish(),
});

export const AssistantCreateSchema = z.object({
  assistant_id: z.uuid().nullish(),
  graph_id: z.string().min(1),
  config: config.nullish(),
  context: z.unknown().optional(),
  metadata: json.nullish(),
  if_exists: z.enum(['raise', 'do_nothing']).nullish(),
  name: z.string().nullish(),
  description: z.string().nullish(),
});

export const AssistantPatchSchema = z.object({
  graph_id: z.string().min(1).nullish(),
  config: config.nullish(),
  context: z.unknown().optional(),
  metadata: json.nullish(),
  name: z.string().nullish(),
  description: z.string().nullish(),
});

export const AssistantSearchSchema = z.object({
  graph_id: z.string().nullish(),
  name: z.string().nullish(),
  metadata: json.nullish(),
  limit,
  offset,
  sort_by: z.enum(['assistant_id', 'graph_id', 'name', 'created_at', 'updated_at']).nullish(),
  sort_order: sortOrder,
  select: z.array(z.string()).nullish(),
});

export const AssistantVersionsSchema = z.object({ metadata: json.nullish(), limit, offset });
export const AssistantLatestSchema = z.object({ version: z.number().int().min(1) });

const namespace = z.array(z.string().min(1).refine((s) => !s.includes('.'), 'must not contain "."'));
export const StorePutSchema = z.object({
  namespace,
  key: z.string().min(1),
  value: json,
  index: z.union([z.literal(false), z.array(z.string())]).nullish(),
  ttl: z.number().nullish(),
});
export const StoreDeleteSchema = z.object({ namespace, key: z.string().min(1) });
export const StoreSearchSchema = z.object({
  namespace_prefix: z.array(z.string()).nullish(),
  filter: json.nullish(),
  limit: z.number().int().min(1).max(1000).nullish(),
  offset,
  query: z.string().nullish(),
});
export const StoreNamespacesSchema = z.object({
  prefix: z.array(z.string()).nullish(),
  suffix: z.array(z.string()).nullish(),
  max_depth: z.number().int().min(1).nullish(),
  limit: z.number().int().min(1).max(1000).nullish(),
  offset,
});

const schedule = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = scheduleProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const dateTime = z.iso.datetime({ offset: true });
const onRunCompleted = z.enum(['delete', 'keep']).nullish();

/** A cron: the run to create at each tick, and when (`schedule`, UTC; until `end_time`). */
export const CronCreateSchema = RunCreateSchema.extend({
  schedule,
  end_time: dateTime.nullish(),
  enabled: z.boolean().nullish(),
  /** Stateless crons: keep or delete ('delete', the default) each run's thread. */
  on_run_completed: onRunCompleted,
});
export type CronCreate = z.infer<typeof CronCreateSchema>;

/** A change to a cron; the run fields are merged over its payload. */
export const CronPatchSchema = z.object({
  schedule: schedule.nullish(),
  end_time: dateTime.nullish(),
  enabled: z.boolean().nullish(),
  on_run_completed: onRunCompleted,
  input: z.unknown().optional(),
  metadata: json.nullish(),
  config: config.nullish(),
  context: z.unknown().optional(),
  webhook: RunCreateSchema.shape.webhook,
  interrupt_before: interruptNodes.nullish(),
  interrupt_after: interruptNodes.nullish(),
  stream_mode: RunCreateSchema.shape.stream_mode,
  multitask_strategy: RunCreateSchema.shape.multitask_strategy,
});

const cronFilter = {
  assistant_id: z.string().nullish(),
  thread_id: z.string().nullish(),
  enabled: z.boolean().nullish(),
};
export const CronSearchSchema = z.object({
  ...cronFilter,
  limit,
  offset,
  sort_by: z.enum(['cron_id', 'assistant_id', 'thread_id', 'created_at', 'updated_at', 'next_run_date']).nullish(),
  sort_order: sortOrder,
  select: z.array(z.string()).nullish(),
});
export const CronCountSchema = z.object(cronFilter);

/** `schema.parse` with the failure turned into a 422 whose detail names each bad field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, where = 'body'): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : where;
    return `${path}: ${issue.message}`;
  });
  throw new RequestValidationError(problems.join('; '));
}
