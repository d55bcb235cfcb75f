import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RunnableConfig } from '@langchain/core/runnables';
import LZString from 'lz-string';
import type { ResolvedRoute } from '../registry/resolved-route';
import { type WireConfigLayer, mergeConfigs } from './config-merge';
import { identityOf } from '../caller/identity';
import { HttpError, RequestValidationError } from './http-error';
import { describeIssues } from './request-schemas';

/** The same key as the JS client writes it (camelCase) and as the Python client does. */
const KEY_SPELLINGS: Record<string, { js: keyof RunnableConfig; wire: string[] }> = {
  configurable: { js: 'configurable', wire: ['configurable'] },
  tags: { js: 'tags', wire: ['tags'] },
  metadata: { js: 'metadata', wire: ['metadata'] },
  recursion_limit: { js: 'recursionLimit', wire: ['recursion_limit', 'recursionLimit'] },
  max_concurrency: { js: 'maxConcurrency', wire: ['max_concurrency', 'maxConcurrency'] },
  run_id: { js: 'runId', wire: ['run_id', 'runId'] },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `c/{config_hash}/…` routes carry a config compressed with LZString, as LangServe's playground makes them. */
/**
 * `maxChars`: the longest JSON text the hash may decode to (the gateway passes MAX_BODY_SIZE: a config
 * in the URL is bounded like one in the body); 4,096 hash characters can inflate to megabytes.
 */
export function decodeConfigHash(hash: string, maxChars = Number.POSITIVE_INFINITY): Record<string, unknown> {
  let parsed: unknown;
  try {
    const text = LZString.decompressFromEncodedURIComponent(hash);
    if (text && text.length > maxChars) throw new HttpError(413, `config hash: decodes to more than the ${maxChars} characters of JSON accepted (MAX_BODY_SIZE)`);
    parsed = text ? JSON.parse(text) : undefined;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'Invalid config hash');
  return parsed as Record<string, unknown>;
}

export function encodeConfigHash(config: Record<string, unknown>): string {
  return LZString.compressToEncodedURIComponent(JSON.stringify(config));
}

/** The LangServe release whose wire protocol the gateway speaks; reported as `__langserve_version` in run metadata. */
export const LANGSERVE_PROTOCOL_VERSION = '0.3.3';

/**
 * Keeps only the allowed keys of one client config layer, each checked for type. Unknown keys (the
 * JS client always sends `runName`, `recursionLimit`, `tags`, …) are dropped silently, never an error.
 */
function allowedKeys(route: ResolvedRoute, layer: Record<string, unknown> | undefined | null): WireConfigLayer | undefined {
  if (!layer) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of route.configKeys) {
    for (const wire of KEY_SPELLINGS[key].wire) {
      if (layer[wire] !== undefined && layer[wire] !== null) out[key] = checkKey(key, layer[wire]);
    }
  }
  return out as WireConfigLayer;
}

/**
 * The client's config: the hash layer and the body layer, each reduced to the allowed keys, merged
 * as LangServe's `merge_configs` does (tags unioned, metadata and configurable merged), then
 * `configurable` validated as a whole against the route's schema. Always has `configurable`
 * (`{}` when nothing was set), as LangServe's runs do.
 */
export function allowListConfig(route: ResolvedRoute, layers: (Record<string, unknown> | undefined | null)[]): RunnableConfig {
  // No client config at all (most requests): what the merge below comes to, without it.
  if (!anyLayer(layers)) return { configurable: {} };
  const merged = route.configKeys.length ? mergeConfigs(...layers.map((layer) => allowedKeys(route, layer))) : {};
  const out: Record<string, unknown> = {};
  for (const key of route.configKeys) if (merged[key] !== undefined) out[KEY_SPELLINGS[key].js] = merged[key];
  let configurable = merged.configurable;
  if (configurable && route.configurableSchema) {
    const result = route.configurableSchema.safeParse(configurable);
    if (!result.success) throw new RequestValidationError(describeIssues(result.error.issues, 'config.configurable'));
    configurable = result.data as Record<string, unknown>;
  }
  out.configurable = configurable ?? {};
  return out as RunnableConfig;
}

function anyLayer(layers: (Record<string, unknown> | undefined | null)[]): boolean {
  for (const layer of layers) if (layer) return true;
  return false;
}

/** allowListConfig's answer for a request with no client config, for serverRunConfig (which copies what it keeps). */
const NO_CLIENT_CONFIG: RunnableConfig = Object.freeze({ configurable: Object.freeze({}) });

function checkKey(key: string, value: unknown): unknown {
  switch (key) {
    case 'configurable':
      if (typeof value !== 'object' || Array.isArray(value)) throw new RequestValidationError('config.configurable: expected an object');
      return value;
    case 'tags':
      if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) throw new RequestValidationError('config.tags: expected an array of strings');
      return value;
    case 'metadata':
      if (typeof value !== 'object' || Array.isArray(value)) throw new RequestValidationError('config.metadata: expected an object');
      return value;
    case 'run_id':
      if (typeof value !== 'string' || !UUID.test(value)) throw new RequestValidationError('config.run_id: expected a UUID');
      return value.toLowerCase();
    default:
      if (!Number.isInteger(value) || (value as number) < 1) throw new RequestValidationError(`config.${key}: expected a positive integer`);
      return value;
  }
}

/**
 * The client part of a run's config: the merged, allow-listed client config, then the per-request
 * modifier. A batch with one config object computes it once for all its inputs.
 */
export async function clientRunConfig(
  route: ResolvedRoute,
  hashConfig: Record<string, unknown> | undefined,
  bodyConfig: Record<string, unknown> | undefined | null,
  req: IncomingMessage,
): Promise<RunnableConfig> {
  let config = allowListConfig(route, [hashConfig, bodyConfig]);
  if (route.perRequestConfigModifier) config = await route.perRequestConfigModifier(config, req, identityOf(req));
  return config;
}

/** A run config as the server hands it to the runnable: its run id is always set. */
export type ServerRunConfig = RunnableConfig & { runId: string };

/**
 * What the server always sets over the client config, as LangServe's `_update_config_with_defaults`:
 * run name = the route path with its slash (`/echo`), the metadata keys LangServe adds,
 * `configurable` at least `{}`, the request's abort signal, and the run id: the client's when the
 * route allows `run_id` (and `useClientRunId`), a new one otherwise.
 */
export function serverRunConfig(
  route: ResolvedRoute,
  config: RunnableConfig,
  req: IncomingMessage,
  endpoint: string,
  signal: AbortSignal,
  useClientRunId = true,
): ServerRunConfig {
  const caller = identityOf(req);
  const metadata: Record<string, unknown> = {
    ...(config.metadata ?? {}),
    __useragent: req.headers['user-agent'],
    __langserve_version: LANGSERVE_PROTOCOL_VERSION,
    __langserve_endpoint: endpoint,
  };
  // Who called, for traces and the runnable; never what a client wrote there itself.
  if (caller) {
    metadata.runnel_caller = caller.name;
    metadata.runnel_caller_kind = caller.kind;
  } else {
    delete metadata.runnel_caller;
    delete metadata.runnel_caller_kind;
  }
  return {
    ...config,
    configurable: { ...config.configurable },
    runName: runNameOf(route),
    runId: (useClientRunId && config.runId) || randomUUID(),
    signal,
    metadata,
  };
}

/** LangServe's run name: the path the runnable is served at, with its leading slash. */
export function runNameOf(route: ResolvedRoute): string {
  return `/${route.path}`;
}

/**
 * The config a run gets: `clientRunConfig` then `serverRunConfig`. Without a per-request modifier
 * nothing waits, and the config comes back as is rather than as a promise (two async frames and
 * their microtask turns fewer per request); `await` takes either.
 */
export function buildRunConfig(
  route: ResolvedRoute,
  hashConfig: Record<string, unknown> | undefined,
  bodyConfig: Record<string, unknown> | undefined | null,
  req: IncomingMessage,
  endpoint: string,
  signal: AbortSignal,
): ServerRunConfig | Promise<ServerRunConfig> {
  if (!route.perRequestConfigModifier) {
    const client = !hashConfig && !bodyConfig ? NO_CLIENT_CONFIG : allowListConfig(route, [hashConfig, bodyConfig]);
    return serverRunConfig(route, client, req, endpoint, signal);
  }
  return clientRunConfig(route, hashConfig, bodyConfig, req).then((config) => serverRunConfig(route, config, req, endpoint, signal));
}
