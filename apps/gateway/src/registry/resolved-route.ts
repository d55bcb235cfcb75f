import type { Runnable } from '@langchain/core/runnables';
import type { z } from 'zod';
import { ENDPOINTS, type Endpoint, isEndpoint } from './endpoint';
import type { ClientConfigKey, PerRequestConfigModifier, RouteOptions } from './route-options';

const PATH_PATTERN = /^[A-Za-z0-9_-]+$/;
const CLIENT_CONFIG_KEYS: ClientConfigKey[] = ['configurable', 'tags', 'metadata', 'recursion_limit', 'max_concurrency', 'run_id'];

/** Thrown by `addRoutes` when the options are contradictory or name unknown things: a setup bug. */
export class RouteSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouteSetupError';
  }
}

/** A registered runnable with its options checked and defaults applied, ready to serve. */
export interface ResolvedRoute {
  path: string;
  runnable: Runnable;
  inputSchema?: z.ZodType;
  outputSchema?: z.ZodType;
  configurableSchema?: z.ZodType;
  configKeys: ClientConfigKey[];
  enabled: ReadonlySet<Endpoint>;
  perRequestConfigModifier?: PerRequestConfigModifier;
  description?: string;
  exampleInput?: unknown;
}

export function resolveRoute(runnable: Runnable, options: RouteOptions): ResolvedRoute {
  const { path } = options;
  if (!PATH_PATTERN.test(path)) throw new RouteSetupError(`Route path "${path}" must match ${PATH_PATTERN}`);
  if (options.enabledEndpoints && options.disabledEndpoints) {
    throw new RouteSetupError(`Route "${path}": give enabledEndpoints or disabledEndpoints, not both`);
  }
  const listed = options.enabledEndpoints ?? options.disabledEndpoints ?? [];
  for (const name of listed) {
    if (!isEndpoint(name)) throw new RouteSetupError(`Route "${path}": unknown endpoint "${name}"; known: ${ENDPOINTS.join(', ')}`);
  }
  const configKeys = options.configKeys ?? ['configurable'];
  for (const key of configKeys) {
    if (!CLIENT_CONFIG_KEYS.includes(key)) {
      throw new RouteSetupError(`Route "${path}": config key "${key}" cannot be client-settable; allowed: ${CLIENT_CONFIG_KEYS.join(', ')}`);
    }
  }
  const enabled = options.enabledEndpoints
    ? new Set(options.enabledEndpoints)
    : new Set(ENDPOINTS.filter((e) => !options.disabledEndpoints?.includes(e)));
  return {
    path,
    runnable,
    inputSchema: options.inputSchema,
    outputSchema: options.outputSchema,
    configurableSchema: options.configurableSchema,
    configKeys,
    enabled,
    perRequestConfigModifier: options.perRequestConfigModifier,
    description: options.description,
    exampleInput: options.exampleInput,
  };
}
