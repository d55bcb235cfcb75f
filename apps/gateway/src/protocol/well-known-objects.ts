import { Document } from '@langchain/core/documents';
import { isBaseMessage } from '@langchain/core/messages';
import { toWire } from './wire-serialization';

/**
 * LangChain's well-known objects that LangServe's serializer (langserve/serialization.py) knows
 * and that LangChain.js represents as plain objects rather than classes: AgentAction (and
 * AgentActionMessageLog), AgentFinish, LLMResult, Generation and ChatGeneration. They go on the
 * wire as pydantic dumps them (`{tool, tool_input, log, type: "AgentAction"}`, …), which is what
 * both RemoteRunnable clients revive; classes (messages, documents, prompt values, generation
 * chunks) are left to `toWire`.
 */

/** Past this depth objects are passed on as they are (toWire still serializes them). */
const MAX_DEPTH = 64;

const AGENT_ACTION_KEYS = new Set(['tool', 'toolInput', 'log', 'messageLog', 'toolCallId']);
const AGENT_FINISH_KEYS = new Set(['returnValues', 'log']);
const LLM_RESULT_KEYS = new Set(['generations', 'llmOutput', '__run']);
const GENERATION_KEYS = new Set(['text', 'generationInfo', 'message']);

/**
 * An output (chunk, event, patch) to its wire JSON value: `toWire(wellKnownToWire(value, 0))`, in one
 * walk for what outputs are made of (plain objects, arrays, scalars), so a plain JSON chunk is walked
 * once, not twice (docs/benchmarks.md). Anything else gets the two steps as they are.
 */
export function serializeOutput(value: unknown): unknown {
  return outputToWire(value, 0);
}

/** `toWire(wellKnownToWire(value, depth))`. */
function outputToWire(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return toWire(value);
  if (Array.isArray(value)) {
    // Both steps copy an array only when an item changed, item by item: so does this.
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v === null || typeof v !== 'object') continue;
      const w = outputToWire(v, depth + 1);
      if (w !== v) (copy ??= value.slice())[i] = w;
    }
    return copy ?? value;
  }
  // Documents, well-known objects, class instances and plain objects that look like messages
  // (a `_getType` function): the two steps, exactly.
  if (!isPlainObject(value) || isBaseMessage(value)) return toWire(wellKnownToWire(value, depth));
  const known = knownObject(value, depth);
  if (known) return toWire(known);
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const v = value[key];
    if (v === null || typeof v !== 'object') continue;
    const w = outputToWire(v, depth + 1);
    if (w !== v) (copy ??= { ...value })[key] = w;
  }
  return copy ?? value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function keysWithin(obj: Record<string, unknown>, allowed: Set<string>): boolean {
  for (const key in obj) if (!allowed.has(key)) return false;
  return true;
}

/** Exported for the spec that holds serializeOutput to these two steps. */
export function wellKnownToWire(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = wellKnownToWire(value[i], depth + 1);
      if (r !== value[i]) (copy ??= value.slice())[i] = r;
    }
    return copy ?? value;
  }
  if (value instanceof Document) {
    // As pydantic dumps it, with `id: null` when unset (toWire leaves `id` out then).
    return { page_content: value.pageContent, metadata: wellKnownToWire(value.metadata, depth + 1), type: 'Document', id: value.id ?? null };
  }
  if (!isPlainObject(value)) return value;
  const known = knownObject(value, depth);
  if (known) return known;
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const v = value[key];
    if (v !== null && typeof v === 'object') {
      const r = wellKnownToWire(v, depth + 1);
      if (r !== v) (copy ??= { ...value })[key] = r;
    }
  }
  return copy ?? value;
}

function knownObject(o: Record<string, unknown>, depth: number): Record<string, unknown> | undefined {
  const inner = (v: unknown) => wellKnownToWire(v, depth + 1);
  if (typeof o.tool === 'string' && 'toolInput' in o && typeof o.log === 'string' && keysWithin(o, AGENT_ACTION_KEYS)) {
    const wire: Record<string, unknown> = { tool: o.tool, tool_input: inner(o.toolInput), log: o.log };
    if (o.toolCallId !== undefined) wire.tool_call_id = o.toolCallId;
    if (Array.isArray(o.messageLog)) {
      wire.message_log = o.messageLog;
      wire.type = 'AgentActionMessageLog';
    } else {
      wire.type = 'AgentAction';
    }
    return wire;
  }
  if (isPlainObject(o.returnValues) && typeof o.log === 'string' && keysWithin(o, AGENT_FINISH_KEYS)) {
    return { return_values: inner(o.returnValues), log: o.log, type: 'AgentFinish' };
  }
  if (Array.isArray(o.generations) && o.generations.every(Array.isArray) && keysWithin(o, LLM_RESULT_KEYS)) {
    const run = o.__run as { runId?: unknown } | undefined;
    return {
      generations: (o.generations as unknown[][]).map((list) => list.map((g) => (isPlainObject(g) ? generation(g, inner) : g))),
      llm_output: inner(o.llmOutput) ?? null,
      run: run && typeof run.runId === 'string' ? [{ run_id: run.runId }] : null,
      type: 'LLMResult',
    };
  }
  // A lone {text} is left alone (it is also StringPromptValue's wire form); a generation has its
  // generationInfo or its message.
  if (typeof o.text === 'string' && ('generationInfo' in o || isBaseMessage(o.message)) && keysWithin(o, GENERATION_KEYS)) {
    return generation(o, inner);
  }
  return undefined;
}

function generation(g: Record<string, unknown>, inner: (v: unknown) => unknown): Record<string, unknown> {
  const wire: Record<string, unknown> = { text: g.text, generation_info: inner(g.generationInfo) ?? null };
  if (isBaseMessage(g.message)) {
    wire.type = 'ChatGeneration';
    wire.message = g.message;
  } else {
    wire.type = 'Generation';
  }
  return wire;
}

/**
 * The other direction, for inputs: the Python client sends these objects in their pydantic form;
 * the runnable gets LangChain.js's (`{tool, toolInput, log}`, a Document, …). Objects without the
 * `type` LangServe writes are left as they are.
 */
export function wellKnownFromWire(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = wellKnownFromWire(value[i], depth + 1);
      if (r !== value[i]) (copy ??= value.slice())[i] = r;
    }
    return copy ?? value;
  }
  if (!isPlainObject(value)) return value;
  // (No closure for the inner calls: this runs for every object of every input.)
  switch (value.type) {
    case 'AgentAction':
    case 'AgentActionMessageLog':
      if (typeof value.tool === 'string' && 'tool_input' in value && typeof value.log === 'string') {
        const action: Record<string, unknown> = { tool: value.tool, toolInput: wellKnownFromWire(value.tool_input, depth + 1), log: value.log };
        if (Array.isArray(value.message_log)) action.messageLog = wellKnownFromWire(value.message_log, depth + 1);
        if (typeof value.tool_call_id === 'string') action.toolCallId = value.tool_call_id;
        return action;
      }
      break;
    case 'AgentFinish':
      if (isPlainObject(value.return_values) && typeof value.log === 'string') return { returnValues: wellKnownFromWire(value.return_values, depth + 1), log: value.log };
      break;
    case 'Document':
      if (typeof value.page_content === 'string') {
        return new Document({
          pageContent: value.page_content,
          metadata: isPlainObject(value.metadata) ? (wellKnownFromWire(value.metadata, depth + 1) as Record<string, unknown>) : {},
          id: typeof value.id === 'string' ? value.id : undefined,
        });
      }
      break;
    default:
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const v = value[key];
    if (v !== null && typeof v === 'object') {
      const r = wellKnownFromWire(v, depth + 1);
      if (r !== v) (copy ??= { ...value })[key] = r;
    }
  }
  return copy ?? value;
}
