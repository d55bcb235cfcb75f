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
      const properties: Record<string, unknown> = {};
      if (route.configKeys.includes('configurable')) properties.configurable = jsonSchema(route.configurableSchema ?? z.object({}), 'Configurable');
      if (route.configKeys.includes('tags')) properties.tags = { type: 'array', items: { type: 'string' } };
      if (route.configKeys.includes('metadata')) properties.metadata = { type: 'object' };
      if (route.configKeys.includes('recursion_limit')) properties.recursion_limit = { type: 'integer', minimum: 1 };
      if (route.configKeys.includes('max_concurrency')) properties.max_concurrency = { type: 'integer', minimum: 1 };
      return { title: `${name}Config`, type: 'object', properties };
    }
  }
}

export async function schema(ctx: RequestContext): Promise<void> {
  sendJson(ctx.res, 200, schemaFor(ctx));
}
