import type { IncomingMessage } from 'node:http';
import type { RunnableConfig } from '@langchain/core/runnables';
import type { z } from 'zod';
import type { Identity } from '../caller/identity';
import type { Endpoint } from './endpoint';

/** Config keys a client may set, in LangServe's (snake_case) spelling. `run_name` never is. */
export type ClientConfigKey = 'configurable' | 'tags' | 'metadata' | 'recursion_limit' | 'max_concurrency' | 'run_id';

/**
 * Called for every run with the config that survived the allow-list, the request, and the caller
 * the gateway authenticated (API key or JWT; undefined when auth is off — an app embedding the
 * gateway reads its own auth from the request); returns the config to run with. Use it to put the
 * caller's identity into `configurable` (it wins over anything the client sent) or to refuse a
 * request by throwing an HttpError.
 */
export type PerRequestConfigModifier = (
  config: RunnableConfig,
  request: IncomingMessage,
  caller: Identity | undefined,
) => RunnableConfig | Promise<RunnableConfig>;

/** Options of `addRoutes`, as LangServe's `add_routes` keyword arguments. */
export interface RouteOptions {
  /**
   * Where the runnable is served: `/{path}/…` under BASE_PATH. One or more `/`-separated segments of
   * letters, digits, `-` and `_` (`chat`, `agents/support`; a leading `/` as in LangServe's `path="/chat"`
   * is accepted). Segments named `c` or like an endpoint are refused, as are `health`, `ready`,
   * `metrics` and `docs` as the first segment.
   */
  path: string;
  /** Validates `input` on every run (422 naming the field) and is served as `input_schema`. */
  inputSchema?: z.ZodType;
  /** Served as `output_schema`; not enforced. */
  outputSchema?: z.ZodType;
  /** Validates `config.configurable` when the client sends it, and is served in `config_schema`. */
  configurableSchema?: z.ZodType;
  /** Default `['configurable']`, LangServe's default. Other keys clients send are dropped. */
  configKeys?: ClientConfigKey[];
  /** Either a list of enabled endpoints or of disabled ones, not both. */
  enabledEndpoints?: Endpoint[];
  disabledEndpoints?: Endpoint[];
  perRequestConfigModifier?: PerRequestConfigModifier;
  /** Shown on the playground page. */
  description?: string;
  /** Pre-filled in the playground form. */
  exampleInput?: unknown;
}
