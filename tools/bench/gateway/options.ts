// Gateway benchmark, one invocation end to end:
//
//   node_modules/.bin/node tools/dev/run-ts.mjs tools/bench/gateway/run.ts [options]      (or: npm run bench:gateway -- [options])
//
// 1. Builds the gateway (ALWAYS by default, so the figures are for the current source; --no-build reuses
//    dist/apps/gateway/main.js when it exists) and bundles apps/gateway/src/runnables/echo-runnable.ts with
//    esbuild (packages external) for the bare LangChain server; the bare server and the load worker are
//    bundled the same way (build.ts).
// 2. Starts three servers as child processes on free loopback ports (servers.ts):
//      gateway         dist/apps/gateway/main.js, API keys on, metrics on, LOG_LEVEL=warn, MAX_CONCURRENT_REQUESTS=10000
//      bare-langchain  node:http + JSON.parse + new EchoRunnable().invoke(input)      (bare-server.ts langchain)
//      bare-echo       node:http + JSON.parse + JSON.stringify({output: input})        (bare-server.ts echo)
// 3. Throughput (scenarios/throughput.ts): autocannon (in a separate load-generator process, load-worker.ts)
//    POSTs the same body to each server's /echo/invoke with the same connections and duration; warm-up first,
//    then the servers interleaved for --rounds rounds (A B C A B C ...). req/s, p50/p99, errors, and the ratios.
// 4. Fixed rate (scenarios/rate.ts): the gateway at --rate req/s: autocannon overallRate (as specified; note
//    autocannon sends each connection's per-second quota back to back, then idles), the same against both bare
//    servers as controls, and an evenly paced open-loop generator (microsecond latencies) against the gateway
//    and the bare LangChain server. The gateway's event-loop delay and GC during the run come from its /metrics.
// 5. Open streams (scenarios/streams.ts): a second gateway with RUNNABLES_MODULE=hold-runnables.cjs; opens
//    --streams concurrent POST /hold/stream, waits for every first `event: data`, reads RSS
//    (/proc/<pid>/status and the process_resident_memory_bytes metric) and runnel_gateway_open_streams, closes
//    them all and checks the gauge returns to 0 and that every held run was released through its AbortSignal.
//    Then the same against a bare node:http server streaming the same runnable (bare-server.ts hold-stream) as
//    a control. Needs about --streams + 1024 open files; the soft limit is raised for those children when the
//    hard limit allows, otherwise the run stops and says so.
// 5b. Lambda (issue 9; scenarios/lambda.ts): a gateway with RUNNABLES_MODULE=lambda-runnables.cjs vs a bare
//    node:http server serving the same runnable objects (bare-server.ts lambda), same load as in 3, interleaved rounds:
//      invoke  POST /lambda/invoke          RunnableLambda.from((x) => x); bare: JSON.parse + .invoke + JSON.stringify
//      stream  POST /lambda_chunks/stream   a RunnableLambda generator yielding 8 chunks, as SSE (metadata, data x8,
//                                           end); bare: `for await (const c of await runnable.stream(input))` in the
//                                           same frames. Every body is checked: `event: end` and exactly 8 data frames.
//    For every server: req/s (wall), p50/p99, and server CPU µs per completed request (utime+stime of the server
//    process from /proc/<pid>/stat before and after the run, divided by the requests autocannon completed);
//    ratios gateway/bare for both (of the means, and the medians of the per-round ratios, each round paired with the
//    bare server's round next to it); the best round's CPU µs/req; and the CPU split by thread (/proc/<pid>/task:
//    event loop, V8 helper threads for GC and compilation, libuv pool). Target >= 0.8x on each.
// 6. CPU profile (scenarios/profile.ts; when the gateway is below 0.8x its bare control, or with --profile): the
//    gateway and its bare control are each run under `node --cpu-prof` during a load run, and the top self and
//    inclusive functions are printed (see profile-summary.ts): /echo/invoke vs bare-langchain when the
//    throughput phase ran, and /lambda/invoke and /lambda_chunks/stream vs bare-lambda (one window each) when
//    the lambda phase ran.
// Prints the machine, a summary table and the targets (report.ts); writes results JSON to a temp directory;
// stops every child process it started (SIGTERM, then SIGKILL), also on error and SIGINT (@runnel/testing).
//
// Options (flag, or env var in brackets; defaults in parentheses):
//   --duration=S          seconds per measured throughput run          [BENCH_DURATION]          (10)
//   --connections=N       autocannon connections                       [BENCH_CONNECTIONS]       (50)
//   --rounds=N            interleaved rounds per server                [BENCH_ROUNDS]            (2)
//   --warmup=S            warm-up seconds per server                   [BENCH_WARMUP]            (5)
//   --rate=N              fixed-rate test, req/s                       [BENCH_RATE]              (1000)
//   --rate-connections=N  connections for the fixed-rate test          [BENCH_RATE_CONNECTIONS]  (10)
//   --rate-duration=S     seconds of the fixed-rate test               [BENCH_RATE_DURATION]     (10)
//   --streams=N           open streams                                 [BENCH_STREAMS]           (5000)
//   --only=a,b            phases: throughput,lambda,rate,streams,profile  [BENCH_ONLY]           (all)
//                         (--only=lambda: the issue-9 comparison alone; add ,profile to profile it when below target)
//   --no-build            reuse dist/apps/gateway/main.js if present   [BENCH_BUILD=missing]
//   --profile / --no-profile   force / never profile (default: only below target)  [BENCH_PROFILE=always|never|auto]
//                         (--only=lambda --profile profiles the lambda servers; below target, --only=lambda,profile does)
//   --json=PATH           also write the results JSON there
//   --gateway-main=PATH   benchmark that gateway bundle instead of dist/apps/gateway/main.js (implies --no-build) [BENCH_GATEWAY_MAIN]
//   --gateway-commit=REV  benchmark the gateway as committed at REV (git archive into a temp dir, node_modules
//                         linked, bundled with esbuild using that commit's apps/gateway/project.json build options;
//                         implies --no-build): before/after figures while others' uncommitted work sits in the
//                         tree  [BENCH_GATEWAY_COMMIT]
//   --lambda-also=REV|FILE[,REV|FILE...]  lambda phase only: a second gateway, as committed at REV (built like
//                         --gateway-commit) or a bundle FILE (e.g. a patched copy), in the same interleaved rounds, so
//                         before/after share the machine's noise; a comma-separated list adds one gateway per entry
//                         (a series of commits side by side; --profile profiles the first)  [BENCH_LAMBDA_ALSO]
//   --paired              lambda phase: in each round (and the warm-up) load every server at once, --connections split
//                         between them, instead of one after another: the machine's noise then falls on all of them
//                         in the same seconds (CPU us/req comparable on a busy machine; req/s is each one's share)  [BENCH_PAIRED=1]
//   --lambda-bare-node-args="--flag ..."  node flags for the bare lambda control    [BENCH_LAMBDA_BARE_NODE_ARGS]  (the gateway's flags)
//   --gateway-node-args="--flag ..."  node flags for the gateway processes          [BENCH_GATEWAY_NODE_ARGS]  (NODE_OPTIONS of the gateway image in docker-bake.hcl, as deployed)
import { CommandLine, OptionError } from '@runnel/testing';
import { imageNodeArgs } from '../../docker/image-build-args';

export const PHASES = ['throughput', 'lambda', 'rate', 'streams', 'profile'] as const;

export interface BenchOptions {
  duration: number;
  connections: number;
  rounds: number;
  warmup: number;
  rate: number;
  rateConnections: number;
  rateDuration: number;
  streams: number;
  only: Set<string>;
  /** 'always': build the gateway first; 'missing': only when dist/apps/gateway/main.js is missing. */
  build: string;
  profile: string;
  json?: string;
  /** A/B: another gateway bundle (e.g. a patched copy) instead of dist/apps/gateway/main.js; no build then. */
  gatewayMain?: string;
  gatewayCommit?: string;
  lambdaAlso?: string;
  paired: boolean;
  /** Extra node flags for every gateway process; default: the flags the image runs the gateway with (NODE_OPTIONS, docker-bake.hcl). */
  gatewayNodeArgs: string[];
  lambdaBareNodeArgs: string[];
}

const words = (s: string) => s.split(' ').filter(Boolean);

/** The options readOptions reads (any other is refused). */
export const OPTION_NAMES = {
  values: ['duration', 'connections', 'rounds', 'warmup', 'rate', 'rate-connections', 'rate-duration', 'streams', 'only', 'json', 'gateway-main', 'gateway-commit', 'lambda-also', 'gateway-node-args', 'lambda-bare-node-args'],
  flags: ['no-build', 'profile', 'no-profile', 'paired'],
} as const;

/** The command line readOptions takes: this process's arguments and environment, the names declared. */
export function benchCommandLine(argv = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): CommandLine {
  return new CommandLine(argv, env, OPTION_NAMES);
}

export function readOptions(cl = benchCommandLine()): BenchOptions {
  const profile = cl.option('profile', 'BENCH_PROFILE'); // the flag reads as "true"
  const paired = cl.option('paired', 'BENCH_PAIRED');
  const givenNodeArgs = cl.option('gateway-node-args', 'BENCH_GATEWAY_NODE_ARGS');
  const gatewayNodeArgs = givenNodeArgs === undefined ? imageNodeArgs('gateway') : words(givenNodeArgs);
  const opts: BenchOptions = {
    duration: cl.number('duration', 'BENCH_DURATION', 10),
    connections: cl.number('connections', 'BENCH_CONNECTIONS', 50),
    rounds: Math.round(cl.number('rounds', 'BENCH_ROUNDS', 2)),
    warmup: cl.number('warmup', 'BENCH_WARMUP', 5),
    rate: cl.number('rate', 'BENCH_RATE', 1000),
    rateConnections: cl.number('rate-connections', 'BENCH_RATE_CONNECTIONS', 10),
    rateDuration: cl.number('rate-duration', 'BENCH_RATE_DURATION', 10),
    streams: Math.round(cl.number('streams', 'BENCH_STREAMS', 5000)),
    only: new Set(cl.list('only', 'BENCH_ONLY', PHASES.join(','))),
    build: cl.has('no-build') ? 'missing' : cl.option('build', 'BENCH_BUILD', 'always'), // (no --build: only the variable)
    profile: cl.has('no-profile') ? 'never' : profile === 'true' ? 'always' : (profile ?? 'auto'),
    json: cl.option('json', 'BENCH_JSON'),
    gatewayMain: cl.option('gateway-main', 'BENCH_GATEWAY_MAIN'),
    gatewayCommit: cl.option('gateway-commit', 'BENCH_GATEWAY_COMMIT'),
    lambdaAlso: cl.option('lambda-also', 'BENCH_LAMBDA_ALSO'),
    paired: paired === 'true' || paired === '1',
    gatewayNodeArgs,
    lambdaBareNodeArgs: words(cl.option('lambda-bare-node-args', 'BENCH_LAMBDA_BARE_NODE_ARGS', gatewayNodeArgs.join(' '))),
  };
  if (opts.gatewayMain && opts.gatewayCommit) throw new OptionError('--gateway-main and --gateway-commit: give one');
  if (opts.gatewayMain || opts.gatewayCommit) opts.build = 'missing';
  return opts;
}
