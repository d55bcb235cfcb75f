import { z } from 'zod';
import { RequestValidationError } from './http-error';

const configObject = z.record(z.string(), z.unknown());
const nameFilter = z.array(z.string()).nullish();

/** Body of invoke and stream. `kwargs` is accepted in any shape and ignored, as LangServe does. */
export const InvokeRequest = z.object({
  input: z.unknown().refine((v) => v !== undefined, { message: 'Field required' }),
  config: configObject.nullish(),
  kwargs: z.unknown().optional(),
});

/** Body of batch: the JS client sends `config` as an array with one entry per input. */
export const BatchRequest = z.object({
  inputs: z.array(z.unknown()),
  config: z.union([configObject, z.array(configObject)]).nullish(),
  kwargs: z.unknown().optional(),
});

/** Body of stream_log and stream_events: invoke's plus the run filters. */
export const StreamLogRequest = InvokeRequest.extend({
  include_names: nameFilter,
  include_types: nameFilter,
  include_tags: nameFilter,
  exclude_names: nameFilter,
  exclude_types: nameFilter,
  exclude_tags: nameFilter,
  diff: z.boolean().optional(),
});

export type InvokeRequest = z.infer<typeof InvokeRequest>;
export type BatchRequest = z.infer<typeof BatchRequest>;
export type StreamLogRequest = z.infer<typeof StreamLogRequest>;

/** Describes zod issues as one line that names each field, e.g. `body.inputs: expected array, got string`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: string): string {
  return issues
    .slice(0, 10)
    .map((issue) => {
      const where = [root, ...issue.path.map(String)].join('.');
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

export function parseRequest<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestValidationError('body: expected a JSON object');
  }
  const result = schema.safeParse(body);
  if (!result.success) throw new RequestValidationError(describeIssues(result.error.issues, 'body'));
  return result.data;
}
