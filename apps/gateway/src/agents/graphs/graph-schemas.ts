import { toJsonSchema } from '@langchain/core/utils/json_schema';
import { isZodSchemaV3, isZodSchemaV4 } from '@langchain/core/utils/types';
import { getConfigTypeSchema, getInputTypeSchema, getOutputTypeSchema, getUpdateTypeSchema } from '@langchain/langgraph/zod/schema';

/** A graph's JSON Schemas, as `GET /assistants/:id/schemas` answers them (each may be absent). */
export interface GraphSchemas {
  input?: unknown;
  output?: unknown;
  state?: unknown;
  config?: unknown;
}

/** What a StateSchema (LangGraph's own state class) gives: JSON Schema of the state and of its input. */
interface StateSchemaLike {
  getJsonSchema(): unknown;
  getInputJsonSchema(): unknown;
}

/** The StateGraph a compiled graph was built from: where its state, input, output and config definitions are kept. */
interface BuilderLike {
  _schemaRuntimeDefinition?: unknown;
  _inputRuntimeDefinition?: unknown;
  _outputRuntimeDefinition?: unknown;
  _configRuntimeSchema?: unknown;
}

/** LangGraph marks "input is the state, every key optional" with this symbol. */
const PARTIAL_STATE = Symbol.for('langgraph.state.partial');

const isStateSchema = (v: unknown): v is StateSchemaLike =>
  typeof v === 'object' && v !== null && typeof (v as StateSchemaLike).getJsonSchema === 'function' && typeof (v as StateSchemaLike).getInputJsonSchema === 'function';

const anyDefined = (s: GraphSchemas) => Object.values(s).some((v) => v != null);

/**
 * A graph's schemas from what it carries at run time, in the reference server's order
 * (`@langchain/langgraph-api` getRuntimeGraphSchema): a StateSchema state; zod schemas registered
 * with LangGraph's zod helpers (their `jsonSchemaExtra` kept); plain zod schemas. Undefined when the
 * graph has none of these (an `Annotation` state is plain functions: it carries no types). There the
 * reference runs the TypeScript compiler over the graph's source, ~30 s per graph on this machine;
 * the gateway answers nulls instead (docs/architecture.md, "Agents").
 */
export function graphSchemas(graph: unknown): GraphSchemas | undefined {
  const builder = (graph as { builder?: BuilderLike } | null)?.builder;
  if (!builder) return undefined;
  return fromStateSchema(builder) ?? fromZodRegistry(graph) ?? fromZod(builder);
}

function fromStateSchema(b: BuilderLike): GraphSchemas | undefined {
  const state = isStateSchema(b._schemaRuntimeDefinition) ? b._schemaRuntimeDefinition : undefined;
  if (!state && !isStateSchema(b._inputRuntimeDefinition) && !isStateSchema(b._outputRuntimeDefinition)) return undefined;
  const input = isStateSchema(b._inputRuntimeDefinition)
    ? b._inputRuntimeDefinition.getInputJsonSchema()
    : b._inputRuntimeDefinition === PARTIAL_STATE && state
      ? state.getInputJsonSchema()
      : undefined;
  const s: GraphSchemas = {
    state: state?.getJsonSchema(),
    input,
    output: isStateSchema(b._outputRuntimeDefinition) ? b._outputRuntimeDefinition.getJsonSchema() : undefined,
    config: undefined, // a StateSchema has no config schema yet
  };
  return s.state || s.input || s.output ? s : undefined;
}

function fromZodRegistry(graph: unknown): GraphSchemas | undefined {
  try {
    const g = graph as Parameters<typeof getUpdateTypeSchema>[0];
    const s: GraphSchemas = { state: getUpdateTypeSchema(g), input: getInputTypeSchema(g), output: getOutputTypeSchema(g), config: getConfigTypeSchema(g) };
    return anyDefined(s) ? s : undefined;
  } catch {
    // Not a graph built on zod: the next way.
    return undefined;
  }
}

function fromZod(b: BuilderLike): GraphSchemas | undefined {
  const convert = (schema: unknown) => {
    if (!schema || !(isZodSchemaV4(schema) || isZodSchemaV3(schema))) return undefined;
    try {
      return toJsonSchema(schema as Parameters<typeof toJsonSchema>[0]);
    } catch {
      return undefined;
    }
  };
  const state = convert(b._schemaRuntimeDefinition) as Record<string, unknown> | undefined;
  const s: GraphSchemas = {
    state,
    input: convert(b._inputRuntimeDefinition) ?? (state ? { ...state, required: undefined } : undefined),
    output: convert(b._outputRuntimeDefinition),
    config: convert(b._configRuntimeSchema),
  };
  return anyDefined(s) ? s : undefined;
}
