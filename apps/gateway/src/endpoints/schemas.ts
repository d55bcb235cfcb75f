import { z } from 'zod';
import type { RequestContext } from '../http/request-context';
import { sendJson } from '../http/response-writer';

function jsonSchema(schema: z.ZodType | undefined, title: string): Record<string, unknown> {
  if (!schema) return { title };
  return { title, ...z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) };
}

function pascal(path: string): string {
  return path.replace(/(^|[-_])(\w)/g, (_m, _s, c: string) => c.toUpperCase());
}

/** GET input_schema / output_schema / config_schema: JSON Schema from the zod schemas registered with the route. */
export function schemaFor(ctx: RequestContext): Record<string, unknown> {
  const { route } = ctx;
  const name = pascal(route.path);
  switch (ctx.endpoint) {
    case 'input_schema':
      return jsonSchema(route.inputSchema, `${name}Input`);
    case 'output_schema':
      return jsonSchema(route.outputSchema, `${name}Output`);
    default: {
      // LangServe's shape (config_schema(include=config_keys)): a property per allowed key, and
      // `configurable` only when the runnable declares configurable fields.
      const properties: Record<string, unknown> = {};
      let $defs: Record<string, unknown> | undefined;
      if (route.configKeys.includes('configurable') && route.configurableSchema) {
        // As pydantic writes it: the Configurable model under $defs, referenced from the property
        // (the schema's own $defs are hoisted so their #/$defs/… references still resolve).
        const { $schema: _drop, $defs: inner, ...configurable } = jsonSchema(route.configurableSchema, 'Configurable');
        $defs = { ...(inner as Record<string, unknown> | undefined), Configurable: configurable };
        properties.configurable = { $ref: '#/$defs/Configurable', default: null };
      }
      if (route.configKeys.includes('tags')) properties.tags = { default: null, items: { type: 'string' }, title: 'Tags', type: 'array' };
      if (route.configKeys.includes('metadata')) properties.metadata = { default: null, title: 'Metadata', type: 'object' };
      if (route.configKeys.includes('recursion_limit')) properties.recursion_limit = { default: null, title: 'Recursion Limit', type: 'integer', minimum: 1 };
      if (route.configKeys.includes('run_id')) properties.run_id = { default: null, title: 'Run Id', type: 'string', format: 'uuid' };
      if (route.configKeys.includes('max_concurrency')) properties.max_concurrency = { default: null, title: 'Max Concurrency', type: 'integer', minimum: 1 };
      return { ...($defs ? { $defs } : {}), title: `${name}Config`, type: 'object', properties };
    }
  }
}

export async function schema(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, schemaFor(ctx));
}
