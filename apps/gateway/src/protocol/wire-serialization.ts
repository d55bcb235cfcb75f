import { Document } from '@langchain/core/documents';
import {
  AIMessage,
  AIMessageChunk,
  type BaseMessage,
  ChatMessage,
  FunctionMessage,
  HumanMessage,
  isBaseMessage,
  isBaseMessageChunk,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages';
import { ChatGenerationChunk, GenerationChunk } from '@langchain/core/outputs';
import { ChatPromptValue, StringPromptValue } from '@langchain/core/prompt_values';

/**
 * LangChain objects to the plain JSON LangServe puts on the wire. JSON.stringify would give
 * LangChain's `{lc: 1, type: "constructor"}` form, which neither LangServe's Python client nor the
 * JS RemoteRunnable's `revive()` understands; they expect pydantic-style dicts
 * (`{content, type, additional_kwargs, …}`, `{page_content, metadata}`, `{messages}`, `{text}`).
 */
export function toWire(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    // Copy-on-write: most chunks are plain JSON already, and a copy per chunk was a measurable
    // share of a stream's allocation (docs/benchmarks.md, issue 9).
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (v === null || typeof v !== 'object') continue;
      const w = toWire(v);
      if (w !== v) (copy ??= value.slice())[i] = w;
    }
    return copy ?? value;
  }
  if (isBaseMessage(value)) return messageToWire(value);
  if (value instanceof Document) {
    return { page_content: value.pageContent, metadata: toWire(value.metadata), type: 'Document', id: value.id };
  }
  if (value instanceof ChatPromptValue) return { messages: value.messages.map(messageToWire), type: 'ChatPromptValueConcrete' };
  if (value instanceof StringPromptValue) return { text: value.value, type: 'StringPromptValue' };
  if (value instanceof ChatGenerationChunk) {
    return { text: value.text, generation_info: value.generationInfo ?? null, message: messageToWire(value.message), type: 'ChatGenerationChunk' };
  }
  if (value instanceof GenerationChunk) {
    return { text: value.text, generation_info: value.generationInfo ?? null, type: 'GenerationChunk' };
  }
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return { type: 'error', message: value.message };
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return value;
  }
  const obj = value as Record<string, unknown>;
  if (proto === Object.prototype || proto === null) {
    // A plain object goes out as itself unless something inside it needs converting; undefined and
    // function values are left for JSON.stringify, which drops them from objects as this did.
    let copy: Record<string, unknown> | undefined;
    for (const key in obj) {
      const v = obj[key];
      if (v === null || typeof v !== 'object') continue;
      const w = toWire(v);
      if (w !== v) (copy ??= { ...obj })[key] = w;
    }
    return copy ?? obj;
  }
  // Another class's instance: its enumerable fields, as a plain object.
  const out: Record<string, unknown> = {};
  for (const key in obj) {
    const v = obj[key];
    if (v !== undefined && typeof v !== 'function') out[key] = toWire(v);
  }
  return out;
}

function messageToWire(message: BaseMessage): Record<string, unknown> {
  const chunk = isBaseMessageChunk(message);
  const base = message.getType();
  const wire: Record<string, unknown> = {
    content: message.content,
    additional_kwargs: toWire(message.additional_kwargs ?? {}),
    response_metadata: toWire(message.response_metadata ?? {}),
    type: chunk ? CHUNK_TYPE_NAMES[base] ?? base : base,
    name: message.name ?? null,
    id: message.id ?? null,
  };
  if (message instanceof AIMessage || message instanceof AIMessageChunk) {
    wire.example = false;
    wire.tool_calls = message.tool_calls ?? [];
    wire.invalid_tool_calls = message.invalid_tool_calls ?? [];
    wire.usage_metadata = message.usage_metadata ?? null;
    if (message instanceof AIMessageChunk) wire.tool_call_chunks = message.tool_call_chunks ?? [];
  }
  if (message instanceof ToolMessage) {
    wire.tool_call_id = message.tool_call_id;
    wire.status = message.status ?? 'success';
    wire.artifact = message.artifact;
  }
  if (message instanceof ChatMessage) wire.role = message.role;
  if (message instanceof HumanMessage) wire.example = false;
  return wire;
}

const CHUNK_TYPE_NAMES: Record<string, string> = {
  ai: 'AIMessageChunk',
  human: 'HumanMessageChunk',
  system: 'SystemMessageChunk',
  tool: 'ToolMessageChunk',
  function: 'FunctionMessageChunk',
  generic: 'ChatMessageChunk',
};

type WireMessage = { content: unknown; type: string; [k: string]: unknown };

const MESSAGE_BUILDERS: Record<string, (m: WireMessage) => BaseMessage> = {
  human: (m) => new HumanMessage({ content: m.content as string, name: opt(m.name), id: opt(m.id) }),
  ai: (m) =>
    new AIMessage({
      content: m.content as string,
      name: opt(m.name),
      id: opt(m.id),
      tool_calls: Array.isArray(m.tool_calls) ? (m.tool_calls as never) : undefined,
      additional_kwargs: (m.additional_kwargs as Record<string, unknown>) ?? {},
    }),
  system: (m) => new SystemMessage({ content: m.content as string, name: opt(m.name), id: opt(m.id) }),
  tool: (m) => new ToolMessage({ content: m.content as string, tool_call_id: String(m.tool_call_id ?? ''), name: opt(m.name) }),
  function: (m) => new FunctionMessage({ content: m.content as string, name: String(m.name ?? '') }),
  generic: (m) => new ChatMessage({ content: m.content as string, role: String(m.role ?? 'user') }),
};
const TYPE_ALIASES: Record<string, string> = {
  HumanMessage: 'human',
  AIMessage: 'ai',
  SystemMessage: 'system',
  ToolMessage: 'tool',
  FunctionMessage: 'function',
  ChatMessage: 'generic',
  chat: 'generic',
};

function opt(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Wire input to LangChain objects: serialized messages (what both LangServe clients send:
 * `{content, type: "human", additional_kwargs, …}`) become message instances, so prompts and chat
 * models receive what they would in-process. Everything else is left as parsed.
 */
export function fromWire(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = fromWire(v);
      if (r !== v) changed = true;
      return r;
    });
    return changed ? out : value;
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.type === 'string' && 'content' in obj) {
    const kind = TYPE_ALIASES[obj.type] ?? obj.type;
    const build = MESSAGE_BUILDERS[kind];
    if (build && (typeof obj.content === 'string' || Array.isArray(obj.content))) return build(obj as WireMessage);
  }
  let copy: Record<string, unknown> | undefined;
  for (const key in obj) {
    const v = obj[key];
    if (v !== null && typeof v === 'object') {
      const r = fromWire(v);
      if (r !== v) (copy ??= { ...obj })[key] = r;
    }
  }
  return copy ?? obj;
}
