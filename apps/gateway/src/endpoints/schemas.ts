import { z } from 'zod';
import { sendJson, type RequestContext } from '../http/request-context';

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
      if (route.configKeys.includes('configurable') && route.configurableSchema) {
        const { $schema: _drop, ...configurable } = jsonSchema(route.configurableSchema, 'Configurable');
        properties.configurable = configurable;
      }
      if (route.configKeys.includes('tags')) properties.tags = { default: null, items: { type: 'string' }, title: 'Tags', type: 'array' };
      if (route.configKeys.includes('metadata')) properties.metadata = { default: null, title: 'Metadata', type: 'object' };
      if (route.configKeys.includes('recursion_limit')) properties.recursion_limit = { default: null, title: 'Recursion Limit', type: 'integer', minimum: 1 };
      if (route.configKeys.includes('max_concurrency')) properties.max_concurrency = { default: null, title: 'Max Concurrency', type: 'integer', minimum: 1 };
      return { title: `${name}Config`, type: 'object', properties };
    }
  }
}

export async function schema(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, schemaFor(ctx));
}
