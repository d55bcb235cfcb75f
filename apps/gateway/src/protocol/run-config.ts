import type { IncomingMessage } from 'node:http';
import type { RunnableConfig } from '@langchain/core/runnables';
import LZString from 'lz-string';
import type { ResolvedRoute } from '../registry/resolved-route';
import { HttpError, RequestValidationError } from './http-error';
import { describeIssues } from './request-schemas';

/** The same key as the JS client writes it (camelCase) and as the Python client does. */
const KEY_SPELLINGS: Record<string, { js: keyof RunnableConfig; wire: string[] }> = {
  configurable: { js: 'configurable', wire: ['configurable'] },
  tags: { js: 'tags', wire: ['tags'] },
  metadata: { js: 'metadata', wire: ['metadata'] },
  recursion_limit: { js: 'recursionLimit', wire: ['recursion_limit', 'recursionLimit'] },
  max_concurrency: { js: 'maxConcurrency', wire: ['max_concurrency', 'maxConcurrency'] },
};

/** `c/{config_hash}/…` routes carry a config compressed with LZString, as LangServe's playground makes them. */
export function decodeConfigHash(hash: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    const text = LZString.decompressFromEncodedURIComponent(hash);
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'Invalid config hash');
  return parsed as Record<string, unknown>;
}

export function encodeConfigHash(config: Record<string, unknown>): string {
  return LZString.compressToEncodedURIComponent(JSON.stringify(config));
}

/**
 * Keeps only the allowed keys of a client config, each checked for type. Unknown keys (the JS client
 * always sends `runName`, `recursionLimit`, `tags`, …) are dropped silently, never an error.
 */
export function allowListConfig(route: ResolvedRoute, layers: (Record<string, unknown> | undefined | null)[]): RunnableConfig {
  const out: Record<string, unknown> = {};
  for (const key of route.configKeys) {
    const spelling = KEY_SPELLINGS[key];
    for (const layer of layers) {
      if (!layer) continue;
      for (const wire of spelling.wire) {
        if (layer[wire] !== undefined && layer[wire] !== null) out[spelling.js] = checkKey(route, key, layer[wire]);
      }
    }
  }
  return out as RunnableConfig;
}

function checkKey(route: ResolvedRoute, key: string, value: unknown): unknown {
  switch (key) {
    case 'configurable': {
      if (typeof value !== 'object' || Array.isArray(value)) throw new RequestValidationError('config.configurable: expected an object');
      if (!route.configurableSchema) return value;
      const result = route.configurableSchema.safeParse(value);
      if (!result.success) throw new RequestValidationError(describeIssues(result.error.issues, 'config.configurable'));
      return result.data;
    }
    case 'tags':
      if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) throw new RequestValidationError('config.tags: expected an array of strings');
      return value;
    case 'metadata':
      if (typeof value !== 'object' || Array.isArray(value)) throw new RequestValidationError('config.metadata: expected an object');
      return value;
    default:
      if (!Number.isInteger(value) || (value as number) < 1) throw new RequestValidationError(`config.${key}: expected a positive integer`);
      return value;
  }
}

/**
 * The config a run gets: hash config first, body config over it, reduced to the allow-list, then
 * the per-request modifier, then what the server always sets (run name = path, run id, signal).
 */
export async function buildRunConfig(
  route: ResolvedRoute,
  hashConfig: Record<string, unknown> | undefined,
  bodyConfig: Record<string, unknown> | undefined | null,
  req: IncomingMessage,
  endpoint: string,
  runId: string,
  signal: AbortSignal,
): Promise<RunnableConfig> {
  let config = route.configKeys.length ? allowListConfig(route, [hashConfig, bodyConfig]) : {};
  if (route.perRequestConfigModifier) config = await route.perRequestConfigModifier(config, req);
  return {
    ...config,
    runName: route.path,
    runId,
    signal,
    metadata: { ...(config.metadata ?? {}), __useragent: req.headers['user-agent'], __langserve_endpoint: endpoint },
  };
}
