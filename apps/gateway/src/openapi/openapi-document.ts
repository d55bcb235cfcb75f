import { schemaFor } from '../endpoints/schemas';
import type { RequestContext } from '../http/request-context';
import type { Endpoint } from '../registry/endpoint';
import type { ResolvedRoute } from '../registry/resolved-route';
import type { RunnableRegistry } from '../registry/runnable-registry';

/**
 * The OpenAPI 3.1 document of everything a gateway serves, built from its runnable registry: one
 * path per enabled endpoint of each route (and its `c/{config_hash}/` twin when config hashes are
 * on), bodies typed with the route's input/output/config JSON Schemas (the same ones served at
 * input_schema, output_schema and config_schema), SSE responses as text/event-stream, the error
 * statuses the gateway answers with, and the API-key / bearer schemes when callers must authenticate.
 */
export type JsonObject = Record<string, unknown>;

export interface OpenApiOptions {
  /** Callers must authenticate (API keys or JWT configured): every operation but the playground requires credentials. */
  authRequired: boolean;
  version?: string;
  /** BASE_PATH (normalized, `/api` or ''): the document's `servers` entry, paths stay relative to it. */
  basePath?: string;
}

/** A route path as a component-name prefix: components allow `[A-Za-z0-9._-]`, so `agents/support` → `agents.support`. */
function componentBase(path: string): string {
  return path.replace(/\//g, '.');
}

type Served = Exclude<Endpoint, 'config_hashes'>;

const SERVED: readonly Served[] = ['invoke', 'batch', 'stream', 'stream_log', 'stream_events', 'input_schema', 'output_schema', 'config_schema', 'playground'];
const SSE: ReadonlySet<Served> = new Set(['stream', 'stream_log', 'stream_events']);
const SCHEMA_ENDPOINTS: ReadonlySet<Served> = new Set(['input_schema', 'output_schema', 'config_schema']);

const SUMMARY: Record<Served, string> = {
  invoke: 'Run once and return the output',
  batch: 'Run on several inputs and return their outputs',
  stream: 'Stream output chunks (server-sent events)',
  stream_log: 'Stream run-log patches (server-sent events)',
  stream_events: 'Stream run events (server-sent events)',
  input_schema: 'JSON Schema of the input',
  output_schema: 'JSON Schema of the output',
  config_schema: 'JSON Schema of the client-settable config',
  playground: 'Interactive playground page (HTML)',
};

const SSE_DESCRIPTION: Record<string, string> = {
  stream:
    'Events: `metadata` (data `{"run_id": …}`), then one `data` per output chunk (JSON), `error` (data `{"status_code": …, "message": …}`, e.g. 504 when REQUEST_TIMEOUT passes mid-stream) and finally `end` (no data).',
  stream_log:
    'Events: `metadata`, then `data` events each holding `{"ops": [JSON Patch operations]}` of the run log, `error` on failure, and `end`.',
  stream_events:
    'Events: `metadata`, then `data` events each holding one stream event (`{"event", "name", "run_id", "tags", "metadata", "data", "parent_ids"}`), `error` on failure, and `end`.',
};

/** Component names: route segments are `[A-Za-z0-9_-]+` joined by `.`, so `path.Suffix` never collides between routes. */
function ref(name: string): JsonObject {
  return { $ref: `#/components/schemas/${name}` };
}

/**
 * Moves a JSON Schema into components: its own `$defs` become `{base}.{def}` components and every
 * internal `$ref` (`#`, `#/$defs/X…`) is rewritten to point at them, so all references resolve in
 * the OpenAPI document.
 */
function addComponent(components: JsonObject, base: string, schema: JsonObject): void {
  const { $schema: _drop, $defs, ...rest } = schema;
  const defs = ($defs ?? {}) as Record<string, JsonObject>;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') {
        if (v === '#') out[k] = `#/components/schemas/${base}`;
        else if (v.startsWith('#/$defs/')) {
          const [name, ...tail] = v.slice('#/$defs/'.length).split('/');
          out[k] = `#/components/schemas/${base}.${name}${tail.length ? `/${tail.join('/')}` : ''}`;
        } else if (v.startsWith('#/')) out[k] = `#/components/schemas/${base}${v.slice(1)}`;
        else out[k] = v;
      } else out[k] = rewrite(v);
    }
    return out;
  };
  components[base] = rewrite(rest);
  for (const [name, def] of Object.entries(defs)) components[`${base}.${name}`] = rewrite(def);
}

function routeSchemas(route: ResolvedRoute): Record<'input_schema' | 'output_schema' | 'config_schema', JsonObject> {
  // schemaFor reads only the route and the endpoint name.
  const of = (endpoint: Endpoint) => schemaFor({ route, endpoint } as Pick<RequestContext, 'route' | 'endpoint'> as RequestContext);
  return { input_schema: of('input_schema'), output_schema: of('output_schema'), config_schema: of('config_schema') };
}

function errorResponse(description: string, headers?: JsonObject): JsonObject {
  return { description, content: { 'application/json': { schema: ref('Error') } }, ...(headers ? { headers } : {}) };
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } };

function errorResponses(endpoint: Served, authRequired: boolean, hashed: boolean): JsonObject {
  const out: JsonObject = {
    '404': errorResponse('No such runnable or endpoint, or the endpoint is disabled'),
    '405': errorResponse('Wrong method; the `Allow` header names the right one'),
  };
  if (authRequired && endpoint !== 'playground') {
    out['401'] = errorResponse('Missing or invalid API key or JWT', { 'WWW-Authenticate': { schema: { type: 'string' } } });
    out['403'] = errorResponse("The caller's scopes do not include this endpoint of this runnable");
    out['429'] = errorResponse("The caller's rate limit (requests per minute) or concurrency quota is used up", {
      ...RETRY_AFTER,
      RateLimit: { description: 'IETF RateLimit: remaining budget and seconds to reset, e.g. `"requests";r=0;t=12`', schema: { type: 'string' } },
      'RateLimit-Policy': { description: 'IETF RateLimit-Policy: e.g. `"requests";q=600;w=60`', schema: { type: 'string' } },
    });
  }
  if (hashed) {
    out['400'] = errorResponse('Invalid config hash');
    out['414'] = errorResponse('Config hash longer than the gateway accepts');
    out['422'] = errorResponse('Config hash over MAX_INPUT_DEPTH / MAX_INPUT_ITEMS');
  }
  if (endpoint === 'playground' || SCHEMA_ENDPOINTS.has(endpoint)) return out;
  Object.assign(out, {
    '400': errorResponse(hashed ? 'Invalid config hash, or a body that is not valid JSON or could not be read' : 'Body is not valid JSON or could not be read'),
    '408': errorResponse('Headers or body arrived too slowly (HEADERS_TIMEOUT, BODY_TIMEOUT)'),
    '413': errorResponse('Body larger than MAX_BODY_SIZE'),
    '422': errorResponse('Body, input or config (or config hash) fails validation; `detail` names the field (or the MAX_INPUT_DEPTH / MAX_INPUT_ITEMS limit)'),
    '500': errorResponse('The runnable failed; `request_id` ties it to the gateway log'),
    '503': errorResponse(
      authRequired
        ? 'MAX_CONCURRENT_REQUESTS reached, the gateway is shutting down, or the JWT key set cannot be fetched'
        : 'MAX_CONCURRENT_REQUESTS reached, or the gateway is shutting down',
      RETRY_AFTER,
    ),
    '504': errorResponse(
      SSE.has(endpoint) ? 'REQUEST_TIMEOUT passed before the stream started (later, an `error` event with `status_code: 504`)' : 'REQUEST_TIMEOUT passed',
    ),
  });
  return out;
}

function requestBody(endpoint: Served, p: string, route: ResolvedRoute): JsonObject | undefined {
  const example = route.exampleInput;
  const hasExample = example !== undefined;
  const input = ref(`${p}.Input`);
  const config = { anyOf: [ref(`${p}.Config`), { type: 'null' }], description: 'Run config; only the route\'s client-settable keys are kept' };
  const kwargs = { description: 'Accepted and ignored, as LangServe does' };
  let schema: JsonObject;
  let exampleBody: unknown;
  switch (endpoint) {
    case 'invoke':
    case 'stream':
      schema = { type: 'object', required: ['input'], properties: { input, config, kwargs } };
      exampleBody = { input: example, config: {} };
      break;
    case 'batch':
      schema = {
        type: 'object',
        required: ['inputs'],
        properties: {
          inputs: { type: 'array', items: input },
          config: { anyOf: [ref(`${p}.Config`), { type: 'array', items: ref(`${p}.Config`) }, { type: 'null' }], description: 'One config for all inputs, or one per input' },
          kwargs,
        },
      };
      exampleBody = { inputs: [example], config: {} };
      break;
    case 'stream_log':
    case 'stream_events': {
      const filter = { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] };
      schema = {
        type: 'object',
        required: ['input'],
        properties: {
          input,
          config,
          kwargs,
          include_names: filter,
          include_types: filter,
          include_tags: filter,
          exclude_names: filter,
          exclude_types: filter,
          exclude_tags: filter,
          ...(endpoint === 'stream_log' ? { diff: { type: 'boolean' } } : {}),
        },
      };
      exampleBody = { input: example, config: {} };
      break;
    }
    default:
      return undefined;
  }
  return { required: true, content: { 'application/json': { schema, ...(hasExample ? { example: exampleBody } : {}) } } };
}

function okResponse(endpoint: Served, p: string): JsonObject {
  switch (endpoint) {
    case 'invoke':
      return {
        description: 'The output and the run id',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['output', 'metadata'],
              properties: { output: ref(`${p}.Output`), metadata: ref('RunMetadata') },
            },
          },
        },
      };
    case 'batch':
      return {
        description: 'One output per input, in order, and their run ids',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['output', 'metadata'],
              properties: {
                output: { type: 'array', items: ref(`${p}.Output`) },
                metadata: {
                  type: 'object',
                  properties: {
                    run_ids: { type: 'array', items: { type: 'string', format: 'uuid' } },
                    responses: { type: 'array', items: ref('RunMetadata') },
                  },
                },
              },
            },
          },
        },
      };
    case 'stream':
    case 'stream_log':
    case 'stream_events':
      return {
        description: `Server-sent events. ${SSE_DESCRIPTION[endpoint]}`,
        content: { 'text/event-stream': { schema: { type: 'string', description: 'event: <name>\\r\\ndata: <JSON>\\r\\n\\r\\n frames' } } },
      };
    case 'input_schema':
    case 'output_schema':
    case 'config_schema':
      return { description: SUMMARY[endpoint], content: { 'application/json': { schema: { type: 'object' } } } };
    case 'playground':
      return { description: 'The playground page', content: { 'text/html': { schema: { type: 'string' } } } };
  }
}

function operation(route: ResolvedRoute, endpoint: Served, opts: OpenApiOptions, hashed: boolean): JsonObject {
  const p = componentBase(route.path);
  const ok = okResponse(endpoint, p);
  if (SCHEMA_ENDPOINTS.has(endpoint)) {
    // Not an example: the served schema's own `#` / `#/$defs` references would read as references here.
    const component = endpoint === 'input_schema' ? 'Input' : endpoint === 'output_schema' ? 'Output' : 'Config';
    ok.description = `${SUMMARY[endpoint]}: the schema components/schemas/${p}.${component} (its $defs as ${p}.${component}.*), as a standalone JSON Schema`;
  }
  const body = requestBody(endpoint, p, route);
  const op: JsonObject = {
    operationId: `${p}${hashed ? '_c' : ''}_${endpoint}`.replace(/[-.]/g, '_'),
    tags: [route.path],
    summary: SUMMARY[endpoint] + (hashed ? ' (config from the hash)' : ''),
    ...(route.description ? { description: route.description } : {}),
    ...(hashed ? { parameters: [{ $ref: '#/components/parameters/ConfigHash' }] } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: { '200': ok, ...errorResponses(endpoint, opts.authRequired, hashed) },
  };
  if (opts.authRequired) op.security = endpoint === 'playground' ? [] : [{ bearerAuth: [] }, { apiKeyHeader: [] }];
  return op;
}

export function buildOpenApiDocument(registry: RunnableRegistry, opts: OpenApiOptions): JsonObject {
  const schemas: JsonObject = {
    Error: {
      type: 'object',
      required: ['detail'],
      properties: {
        detail: { description: 'What went wrong (a string, or a list for some validation errors)' },
        message: { type: 'string', description: 'Same as `detail` when it is a string' },
        request_id: { type: 'string', description: 'The request id (also the `x-request-id` header): ties the answer to the gateway log' },
      },
    },
    RunMetadata: {
      type: 'object',
      properties: { run_id: { type: 'string', format: 'uuid' }, feedback_tokens: { type: 'array', items: {} } },
    },
  };
  const paths: JsonObject = {};
  const tags: JsonObject[] = [];
  for (const name of registry.paths) {
    const route = registry.get(name);
    if (!route) continue;
    const served = routeSchemas(route);
    const base = componentBase(name);
    addComponent(schemas, `${base}.Input`, served.input_schema);
    addComponent(schemas, `${base}.Output`, served.output_schema);
    addComponent(schemas, `${base}.Config`, served.config_schema);
    tags.push({ name, ...(route.description ? { description: route.description } : {}) });
    const enabled = SERVED.filter((e) => route.enabled.has(e));
    for (const hashed of route.enabled.has('config_hashes') ? [false, true] : [false]) {
      for (const endpoint of enabled) {
        const method = SSE.has(endpoint) || endpoint === 'invoke' || endpoint === 'batch' ? 'post' : 'get';
        paths[`/${name}${hashed ? '/c/{config_hash}' : ''}/${endpoint}`] = { [method]: operation(route, endpoint, opts, hashed) };
      }
    }
  }
  const components: JsonObject = {
    schemas,
    parameters: {
      ConfigHash: {
        name: 'config_hash',
        in: 'path',
        required: true,
        description: 'A config encoded as LangServe does (lz-string compressToEncodedURIComponent of the JSON config); merged under the request\'s config',
        schema: { type: 'string' },
      },
    },
  };
  if (opts.authRequired) {
    components.securitySchemes = {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <an API key (GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE) or a JWT>' },
      apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'X-API-Key: <an API key (GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE)>' },
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Runnel gateway',
      version: opts.version ?? '1.0.0',
      description:
        'LangChain runnables served with the LangServe wire protocol. Error bodies are `{"detail", "message"}`; every response carries an `x-request-id` header.',
    },
    servers: [{ url: opts.basePath || '/' }],
    tags,
    paths,
    components,
    ...(opts.authRequired ? { security: [{ bearerAuth: [] }, { apiKeyHeader: [] }] } : {}),
  };
}
