import type { Runnable } from '@langchain/core/runnables';
import type { z } from 'zod';
import { AGENT_SCOPE_PATH } from '../agents/http/agent-admission';
import { AGENT_PATH_ROOTS } from '../agents/http/agent-routes';
import { ENDPOINTS, type Endpoint, isEndpoint } from './endpoint';
import type { ClientConfigKey, PerRequestConfigModifier, RouteOptions } from './route-options';

const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Segments a runnable path may not have: they would read as part of the URL around it. */
const RESERVED_SEGMENTS: ReadonlySet<string> = new Set<string>(['c', ...ENDPOINTS]);
/** First segments taken by the gateway's own pages and probes. */
// The gateway's own pages, the LangGraph Platform API's roots and its scope path.
const RESERVED_FIRST: ReadonlySet<string> = new Set(['health', 'ready', 'metrics', 'docs', ...AGENT_PATH_ROOTS, AGENT_SCOPE_PATH]);
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

/**
 * A route path as LangServe's `path=` takes it (`/agents/support` or `agents/support`) → the form the
 * gateway keys routes by (`agents/support`). Throws RouteSetupError for a path that could not be
 * routed unambiguously: empty segments, characters outside letters, digits, `-` and `_`, a segment
 * named `c` or like an endpoint (`invoke`, `playground`, …), or a first segment the gateway serves
 * itself (`health`, `ready`, `metrics`, `docs`).
 */
export function normalizeRoutePath(raw: string): string {
  const path = raw.replace(/^\/+|\/+$/g, '');
  const segments = path.split('/');
  if (path === '' || !segments.every((s) => SEGMENT.test(s))) {
    throw new RouteSetupError(`Route path "${raw}" must be one or more "/"-separated segments of letters, digits, "-" and "_"`);
  }
  const reserved = segments.find((s) => RESERVED_SEGMENTS.has(s));
  if (reserved) throw new RouteSetupError(`Route path "${raw}": segment "${reserved}" is reserved (it names an endpoint or the c/{config_hash} part)`);
  if (RESERVED_FIRST.has(segments[0])) throw new RouteSetupError(`Route path "${raw}": "/${segments[0]}" is served by the gateway itself`);
  return path;
}

export function resolveRoute(runnable: Runnable, options: RouteOptions): ResolvedRoute {
  const path = normalizeRoutePath(options.path);
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
