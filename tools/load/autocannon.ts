// autocannon ships no types (and @types/autocannon is not installed): the part of its programmatic
// API the load tests use, typed here.
const autocannonFn = require('autocannon') as (options: AutocannonOptions) => AutocannonInstance;

export interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  onResponse?: (status: number, body: string, context: unknown, headers: Record<string, string>) => void;
}

export interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  connectionRate?: number;
  timeout?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  requests?: AutocannonRequest[];
  /** Every response's body; false counts as a mismatch. */
  verifyBody?: (body: string) => boolean;
}

export interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number; stddev: number };
  /** Milliseconds (whole: autocannon records them so). */
  latency: { mean: number; p50: number; p90: number; p99: number; p99_9: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Bodies verifyBody refused. */
  mismatches?: number;
  statusCodeStats: Record<string, { count: number }>;
}

export interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): this;
  stop(): void;
}

export const autocannon = autocannonFn;
