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

/**
 * Describes zod issues as one line that names each field, e.g. `body.inputs: expected array, got string`.
 * At most 10 issues, each key and message cut short: zod quotes unknown keys in its messages, and a
 * client's 50 kB key must not come back in `detail`.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root: string): string {
  const described = issues
    .slice(0, 10)
    .map((issue) => {
      const path = issue.path.map((key) => cut(String(key), 40));
      const where = [root, ...(path.length > 12 ? [...path.slice(0, 6), '…', ...path.slice(-4)] : path)].join('.');
      return `${where}: ${cut(issue.message, 200)}`;
    })
    .join('; ');
  return issues.length > 10 ? `${described}; and ${issues.length - 10} more` : described;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function parseRequest<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestValidationError('body: expected a JSON object');
  }
  const result = schema.safeParse(body);
  if (!result.success) throw new RequestValidationError(describeIssues(result.error.issues, 'body'));
  return result.data;
}

/**
 * `parseRequest(InvokeRequest, body)` for invoke and stream, with a fast path for the common body
 * that carries no config: `{"input": …}` (and `kwargs`, which is ignored), where zod would only copy
 * it. The endpoints read `input` and `config` of the result, which are the same either way; any other
 * body (a config object, unknown keys, a missing input) goes through zod as before.
 */
export function parseInvokeRequest(body: unknown): InvokeRequest {
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.getPrototypeOf(body) === Object.prototype) {
    const b = body as Record<string, unknown>;
    if (b.input !== undefined && (b.config === undefined || b.config === null) && onlyInvokeKeys(b)) return b as InvokeRequest;
  }
  return parseRequest(InvokeRequest, body);
}

function onlyInvokeKeys(body: Record<string, unknown>): boolean {
  for (const key in body) if (key !== 'input' && key !== 'config' && key !== 'kwargs') return false;
  return true;
}
