import type { ResolvedRoute } from '../registry/resolved-route';
import { RequestValidationError } from './http-error';
import { describeIssues } from './request-schemas';
import { fromWire } from './wire-serialization';

/** Checks one wire input against the route's input schema (422 naming the field), then revives messages. */
export function prepareInput(route: ResolvedRoute, input: unknown, where = 'input'): unknown {
  if (route.inputSchema) {
    const result = route.inputSchema.safeParse(input);
    if (!result.success) throw new RequestValidationError(describeIssues(result.error.issues, where));
  }
  return fromWire(input);
}
