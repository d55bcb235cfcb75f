import type { AgentEvent } from '../agent-types';

/**
 * The JSON text of an event's data as the LangGraph Platform sends it (`data:` of the SSE): plain
 * JSON, except that anything with a `toDict()` (LangChain messages and message chunks) becomes its
 * dict form `{...data, type}` (`{content, additional_kwargs, response_metadata, id, ..., type: 'ai'}`),
 * not the `{lc, type: 'constructor', id, kwargs}` its `toJSON()` gives. The check is made on the
 * value before `toJSON()` runs, so it applies at any depth (a message inside state, a tuple, a list).
 * Compact (the reference indents by 2): the parsed value is the same.
 */
export function serializeData(data: unknown): string {
  return JSON.stringify(data === undefined ? null : data, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    if (hasToDict(raw)) {
      const { type, data: fields } = raw.toDict();
      return { ...fields, type };
    }
    return value;
  });
}

/** `serializeData(event.data)`. */
export function serializeEvent(event: AgentEvent): string {
  return serializeData(event.data);
}

/** The `error` event's data for a failed run, as the reference's worker publishes it. */
export function serializeError(error: unknown): { error: string; message: string } {
  if (error instanceof Error) return { error: error.name, message: error.message };
  return { error: 'Error', message: JSON.stringify(error) };
}

function hasToDict(value: unknown): value is { toDict(): { type: string; data: Record<string, unknown> } } {
  return value != null && typeof value === 'object' && typeof (value as { toDict?: unknown }).toDict === 'function';
}
