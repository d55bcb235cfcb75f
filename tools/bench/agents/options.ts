/**
 * Agents benchmark (issue 11): the LangGraph Platform API of the gateway vs the reference dev server
 * (`@langchain/langgraph-api`'s, through LangGraphReferenceServer), on the same trivial graph
 * (tools/bench/agents/trivial-graph.mjs: one node returning its input + 1), in the same run.
 * Run from the repository root (Node 24):
 *
 *   node tools/dev/run-ts.mjs tools/bench/agents/run.ts [options]      # or: npm run bench:agents (builds the gateway first)
 *
 * Its parts: options.ts (this), servers.ts (the gateway and the reference server as child processes),
 * measure.ts (the runs and their CPU, cpu.ts), diag.ts (--diag), report.ts, run.ts (main); profile-runs.ts
 * reads a --cpu-prof profile per run.
 *
 * 1. Starts a redis-server and a PostgreSQL (libs/testing; the gateway's database is a fresh one), the
 *    built gateway (dist/apps/gateway/main.js as a child process: LANGGRAPH_JSON=tools/bench/agents/langgraph.json,
 *    DISABLE_BUILTINS=true, LOG_LEVEL=warn, node flags from the gateway image's NODE_OPTIONS in docker-bake.hcl) and the
 *    reference server (10 workers, its default), both serving graph `trivial`.
 * 2. Through `@langchain/langgraph-sdk`'s Client, for each target, in alternating rounds (A B, B A, ...):
 *      wait    `runs.wait(thread, 'trivial', { input: { count } })`
 *      stream  `runs.stream(thread, 'trivial', { input, streamMode: 'values' })`, read to its end
 *    each at concurrency 1 and at --concurrency (8), a fresh thread per run (created beforehand, not timed).
 *    Every answer is checked (count + 1). A measurement lasts --duration seconds and at least --min-samples
 *    runs (the reference polls its queue every 500 ms: ~2 runs/s at concurrency 1), at most --max-seconds.
 * 3. Per measurement: runs/s, p50/p99 latency (request start to the last byte), for stream also the first
 *    event's p50; CPU µs per run of the server process (/proc/<pid>/stat utime+stime; the gateway process
 *    alone; PostgreSQL (postmaster + backends) and Redis separately; the reference is its one process);
 *    the benchmark client's own CPU and everything else on the machine ("other CPU", /proc/stat).
 * 4. Prints a table per target and scenario (the rounds pooled: runs/s = runs / time; percentiles over all
 *    samples), the gateway/reference ratios and the targets: gateway runs/s ≥ 20× the reference's,
 *    gateway p99 < reference p50.
 *
 * Options:
 *   --duration=S        seconds per measurement                  (10)
 *   --concurrency=N     the concurrent scenario's runs in flight (8)
 *   --rounds=R          rounds per target and scenario           (2)
 *   --min-samples=N     runs per measurement at least            (20)
 *   --max-seconds=S     a measurement stops after S seconds even below --min-samples (60)
 *   --warmup=S          seconds of warm-up per target (each scenario) (2)
 *   --only=a,b          scenarios: wait-1,wait-N,stream-1,stream-N (all)
 *   --targets=a,b       gateway,reference (both)
 *   --gateway-main=PATH the gateway bundle                       (dist/apps/gateway/main.js)
 *   --gateway-node-args="…"  node flags for the gateway ("none" for none; default: the image's NODE_OPTIONS, docker-bake.hcl)
 *   --gateway-env=K=V,K=V    extra gateway environment (A/B of settings)
 *   --cpu-prof=DIR      run the gateway under node --cpu-prof, profile written to DIR when it stops
 *   --diag              round trips per run of the gateway: PostgreSQL with pg_stat_statements (calls per statement),
 *                       Redis from INFO commandstats (calls per command), the gateway's read/write syscalls (/proc/<pid>/io)
 *   --json=PATH         also write the results as JSON
 */
import { resolve } from 'node:path';
import { CommandLine, OptionError } from '@runnel/testing';

export const log = (...a: unknown[]) => console.error(`[bench:agents ${new Date().toISOString().slice(11, 19)}]`, ...a);

export type TargetName = 'gateway' | 'reference';
export type Mode = 'wait' | 'stream';
export interface Scenario {
  key: string;
  mode: Mode;
  concurrency: number;
}

export interface AgentsOptions {
  duration: number;
  concurrency: number;
  rounds: number;
  minSamples: number;
  maxSeconds: number;
  warmup: number;
  only: string[];
  targets: TargetName[];
  gatewayMain: string;
  gatewayNodeArgs?: string;
  gatewayEnv: Record<string, string>;
  cpuProf?: string;
  json?: string;
  diag: boolean;
}

/** Seconds that may be 0 (no warm-up). */
function nonNegative(cl: CommandLine, name: string, fallback: number): number {
  const raw = cl.option(name, undefined, String(fallback));
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new OptionError(`--${name}: expected a number ≥ 0, got "${raw}"`);
  return v;
}

/** The options readOptions reads (any other is refused). */
export const OPTION_NAMES = {
  values: ['duration', 'concurrency', 'rounds', 'min-samples', 'max-seconds', 'warmup', 'only', 'targets', 'gateway-main', 'gateway-node-args', 'gateway-env', 'cpu-prof', 'json'],
  flags: ['diag'],
} as const;

export function readOptions(cl = new CommandLine(process.argv.slice(2), process.env, OPTION_NAMES), defaultGatewayMain: string): AgentsOptions {
  return {
    duration: cl.number('duration', undefined, 10),
    concurrency: cl.integer('concurrency', undefined, 8),
    rounds: cl.integer('rounds', undefined, 2),
    minSamples: cl.integer('min-samples', undefined, 20),
    maxSeconds: cl.number('max-seconds', undefined, 60),
    warmup: nonNegative(cl, 'warmup', 2),
    only: cl.list('only', undefined, 'wait-1,wait-N,stream-1,stream-N'),
    targets: cl.list('targets', undefined, 'gateway,reference') as TargetName[],
    gatewayMain: resolve(cl.option('gateway-main', undefined, defaultGatewayMain)),
    gatewayNodeArgs: cl.option('gateway-node-args'),
    gatewayEnv: Object.fromEntries(cl.list('gateway-env', undefined, '').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    cpuProf: cl.option('cpu-prof'),
    json: cl.option('json'),
    diag: cl.has('diag'),
  };
}

/** The scenarios --only keeps, in their fixed order. */
export function scenariosOf(opts: AgentsOptions): Scenario[] {
  const all: Scenario[] = [
    { key: 'wait-1', mode: 'wait', concurrency: 1 },
    { key: 'wait-N', mode: 'wait', concurrency: opts.concurrency },
    { key: 'stream-1', mode: 'stream', concurrency: 1 },
    { key: 'stream-N', mode: 'stream', concurrency: opts.concurrency },
  ];
  return all.filter((s) => opts.only.includes(s.key));
}
