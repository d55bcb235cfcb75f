/**
 * Agents benchmark (issue 11): the LangGraph Platform API of the gateway vs the reference dev server
 * (`@langchain/langgraph-api`'s, through LangGraphReferenceServer), on the same trivial graph
 * (tools/bench/agents/trivial-graph.mjs: one node returning its input + 1), in the same run.
 * Run from the repository root (Node 24):
 *
 *   node tools/dev/run-ts.mjs tools/bench/agents/run.ts [options]      # or: npm run bench:agents (builds the gateway first)
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
 *    samples), the gateway/reference ratios and the issue's targets: gateway runs/s ≥ 20× the reference's,
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
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@langchain/langgraph-sdk';
import { Redis } from 'ioredis';
import { Client as PgClient } from 'pg';
import { freePort, LangGraphReferenceServer, PostgresServer, RedisServer } from '@runnel/testing';
import { deployedNodeOptions } from '../../load/gateway-under-test';

const ROOT = process.cwd();
const HERE = join(ROOT, 'tools/bench/agents');
const GRAPH_ID = 'trivial';

const argv = process.argv.slice(2);
function option(name: string): string | undefined {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}
const num = (name: string, fallback: number) => Number(option(name) ?? fallback);
const opts = {
  duration: num('duration', 10),
  concurrency: num('concurrency', 8),
  rounds: num('rounds', 2),
  minSamples: num('min-samples', 20),
  maxSeconds: num('max-seconds', 60),
  warmup: num('warmup', 2),
  only: (option('only') ?? 'wait-1,wait-N,stream-1,stream-N').split(','),
  targets: (option('targets') ?? 'gateway,reference').split(',') as TargetName[],
  gatewayMain: resolve(option('gateway-main') ?? join(ROOT, 'dist/apps/gateway/main.js')),
  gatewayNodeArgs: option('gateway-node-args'),
  gatewayEnv: Object.fromEntries((option('gateway-env') ?? '').split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  cpuProf: option('cpu-prof'),
  json: option('json'),
  diag: argv.includes('--diag'),
};

type TargetName = 'gateway' | 'reference';
type Mode = 'wait' | 'stream';
interface Scenario {
  key: string;
  mode: Mode;
  concurrency: number;
}
interface Measurement {
  target: TargetName;
  scenario: string;
  round: number;
  runs: number;
  errors: number;
  seconds: number;
  latencies: number[];
  firstEvent: number[];
  cpu: Record<string, number>; // seconds of CPU during the measurement, by process group
  otherCores: number;
  loadavg: string;
  sys: { readsPerRun: number; writesPerRun: number };
  /** The measurement's span in CLOCK_MONOTONIC µs (to cut a --cpu-prof profile to it). */
  monoStartUs: number;
  monoEndUs: number;
  diagnostics?: Record<string, unknown>;
}

const log = (...a: unknown[]) => console.error(`[bench:agents ${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---- /proc ----------------------------------------------------------------------------------------------
const TICK = 100; // CLK_TCK (getconf CLK_TCK: 100 on Linux x86-64)

function statOf(pid: number): { ppid: number; ticks: number; reaped: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] = state (field 3); ppid field 4 → f[1]; utime, stime, cutime, cstime = fields 14–17 → f[11]–f[14]
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of `pid` and (with `tree`) every process below it (PostgreSQL's backends), the live ones
 * from their own stat and the ended ones from the root's cutime+cstime (what it has reaped).
 */
function cpuSeconds(pid: number | undefined, tree = false): number {
  if (!pid) return 0;
  const root = statOf(pid);
  let ticks = (root?.ticks ?? 0) + (tree ? (root?.reaped ?? 0) : 0);
  if (tree) {
    const children = new Map<number, number[]>();
    const all = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = statOf(Number(name));
      if (!st) continue;
      all.set(Number(name), st.ticks);
      if (!children.has(st.ppid)) children.set(st.ppid, []);
      children.get(st.ppid)!.push(Number(name));
    }
    const stack = [...(children.get(pid) ?? [])];
    while (stack.length) {
      const p = stack.pop()!;
      ticks += all.get(p) ?? 0;
      stack.push(...(children.get(p) ?? []));
    }
  }
  return ticks / TICK;
}

/** read/write syscalls of `pid` so far (/proc/<pid>/io syscr, syscw). */
function syscalls(pid: number): { r: number; w: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { r: Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0), w: Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0) };
  } catch {
    return { r: 0, w: 0 };
  }
}

/** Machine CPU seconds busy (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = line;
  return (user + nice + system + irq + softirq + (steal ?? 0)) / TICK;
}

// ---- servers --------------------------------------------------------------------------------------------
async function waitFor(url: string, child: ChildProcess, out: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${out().slice(-3000)}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no answer from ${url} in ${timeoutMs} ms: ${out().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface GatewayProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startGateway(postgresUri: string, redisUrl: string): Promise<GatewayProcess> {
  if (!existsSync(opts.gatewayMain)) throw new Error(`${opts.gatewayMain} does not exist: build it first (nx run gateway:build)`);
  const port = await freePort();
  const metricsPort = await freePort();
  const nodeArgs = (opts.gatewayNodeArgs === 'none' ? '' : (opts.gatewayNodeArgs ?? deployedNodeOptions('gateway'))).split(' ').filter(Boolean);
  if (opts.cpuProf) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${resolve(opts.cpuProf)}`);
  const child = spawn(process.execPath, [...nodeArgs, opts.gatewayMain], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_PATH: join(ROOT, 'node_modules'),
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      POSTGRES_URI: postgresUri,
      GATEWAY_REDIS_URL: redisUrl,
      LANGGRAPH_JSON: join(HERE, 'langgraph.json'),
      DISABLE_BUILTINS: 'true',
      LOG_LEVEL: 'warn',
      MAX_CONCURRENT_REQUESTS: '10000',
      SHUTDOWN_TIMEOUT: '3',
      ...opts.gatewayEnv,
    },
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d).slice(-65_536));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await done;
    clearTimeout(timer);
  };
  try {
    await waitFor(`${url}/ok`, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, stop };
}

/**
 * LangGraphReferenceServer spawns `langgraph-reference-runner.mjs` next to its own module; bundled by
 * run-ts.mjs, that module is this bundle (a temp dir). A one-line runner there imports the real one
 * (which resolves tsx and @langchain/langgraph-api from libs/testing, i.e. the repository's node_modules).
 */
function provideReferenceRunner(): void {
  const shim = join(__dirname, 'langgraph-reference-runner.mjs');
  if (existsSync(shim)) return;
  const real = join(ROOT, 'libs/testing/src/langgraph-reference-runner.mjs');
  writeFileSync(shim, `await import(${JSON.stringify(pathToFileURL(real).href)});\n`);
}

// ---- load -----------------------------------------------------------------------------------------------
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function createThreads(client: Client, n: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(16, n) }, async () => {
      while (next < n) {
        next++;
        ids.push((await client.threads.create()).thread_id);
      }
    }),
  );
  return ids;
}

interface RunResult {
  ms: number;
  firstMs: number;
  ok: boolean;
}

async function oneRun(client: Client, mode: Mode, threadId: string, count: number): Promise<RunResult> {
  const t0 = performance.now();
  let firstMs = NaN;
  let got: unknown;
  if (mode === 'wait') {
    got = ((await client.runs.wait(threadId, GRAPH_ID, { input: { count } })) as { count?: number }).count;
  } else {
    for await (const part of client.runs.stream(threadId, GRAPH_ID, { input: { count }, streamMode: 'values' })) {
      if (Number.isNaN(firstMs)) firstMs = performance.now() - t0;
      if (part.event === 'values') got = (part.data as { count?: number }).count;
    }
  }
  return { ms: performance.now() - t0, firstMs, ok: got === count + 1 };
}

interface Target {
  name: TargetName;
  client: Client;
  pids: { server: number; postgres?: number; redis?: number };
}

/** Runs `scenario` against `target` until --duration (and --min-samples) or the threads run out. */
async function measure(target: Target, scenario: Scenario, threads: string[], seconds: number, minSamples: number, maxSeconds: number) {
  const latencies: number[] = [];
  const firstEvent: number[] = [];
  let errors = 0;
  let next = 0;
  const firstError: unknown[] = [];
  const isGateway = target.name === 'gateway';
  if (opts.diag && isGateway) await diagReset();
  const sys0 = syscalls(target.pids.server);
  const cpu0 = {
    server: cpuSeconds(target.pids.server, target.name === 'reference'),
    postgres: cpuSeconds(target.pids.postgres, true),
    redis: cpuSeconds(target.pids.redis),
    client: process.cpuUsage(),
    machine: machineBusySeconds(),
  };
  const monoStartUs = Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as a V8 .cpuprofile's timestamps
  const t0 = performance.now();
  const endAt = t0 + seconds * 1000;
  const hardEnd = t0 + maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: scenario.concurrency }, async () => {
      for (;;) {
        const now = performance.now();
        if (now >= hardEnd) return;
        if (now >= endAt && latencies.length + errors >= minSamples) return;
        if (next >= threads.length) return;
        const thread = threads[next++];
        const count = next;
        try {
          const r = await oneRun(target.client, scenario.mode, thread, count);
          if (!r.ok) errors++;
          latencies.push(r.ms);
          if (!Number.isNaN(r.firstMs)) firstEvent.push(r.firstMs);
        } catch (err) {
          errors++;
          if (firstError.length < 3) firstError.push(err);
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const monoEndUs = Number(process.hrtime.bigint() / 1000n);
  const sys1 = syscalls(target.pids.server);
  const clientUsage = process.cpuUsage(cpu0.client);
  const cpu = {
    server: cpuSeconds(target.pids.server, target.name === 'reference') - cpu0.server,
    postgres: target.pids.postgres ? cpuSeconds(target.pids.postgres, true) - cpu0.postgres : 0,
    redis: target.pids.redis ? cpuSeconds(target.pids.redis) - cpu0.redis : 0,
    client: (clientUsage.user + clientUsage.system) / 1e6,
  };
  const machine = machineBusySeconds() - cpu0.machine;
  // Everything else: the machine's busy time minus the servers, the backends and this client (the
  // reference round's PostgreSQL/Redis are idle but counted in the machine total, so subtract theirs too).
  const pgAll = cpuSeconds(globalPids.postgres, true) - globalCpu0.postgres;
  const redisAll = cpuSeconds(globalPids.redis) - globalCpu0.redis;
  globalCpu0.postgres += pgAll;
  globalCpu0.redis += redisAll;
  const ours = cpu.server + cpu.client + (target.name === 'gateway' ? cpu.postgres + cpu.redis : pgAll + redisAll);
  const otherCores = Math.max(0, (machine - ours) / elapsed);
  if (firstError.length) log(`${target.name} ${scenario.key}: ${errors} errors, e.g.`, String(firstError[0]));
  const diagnostics = opts.diag && isGateway && latencies.length ? await diagRead(latencies.length) : undefined;
  const sys = { readsPerRun: (sys1.r - sys0.r) / Math.max(1, latencies.length), writesPerRun: (sys1.w - sys0.w) / Math.max(1, latencies.length) };
  return { runs: latencies.length, errors, seconds: elapsed, latencies, firstEvent, cpu, otherCores, sys, diagnostics, monoStartUs, monoEndUs };
}
const globalPids: { postgres?: number; redis?: number } = {};
/** --diag: connections to the gateway's database and Redis, to count what one run costs there. */
const diag: { pg?: PgClient; redis?: Redis } = {};

async function diagReset(): Promise<void> {
  await diag.pg?.query('SELECT pg_stat_statements_reset()');
  await diag.redis?.config('RESETSTAT');
}

async function diagRead(runs: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  if (diag.pg) {
    const { rows } = await diag.pg.query(
      `SELECT calls::int AS calls, total_exec_time AS ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC`,
    );
    const total = rows.reduce((a, r) => a + r.calls, 0);
    out.pgStatementsPerRun = total / runs;
    out.pgExecMsPerRun = rows.reduce((a, r) => a + r.ms, 0) / runs;
    out.pg = rows.slice(0, 40).map((r) => ({ perRun: +(r.calls / runs).toFixed(2), query: r.query }));
  }
  if (diag.redis) {
    const info = await diag.redis.info('commandstats');
    const cmds = [...info.matchAll(/cmdstat_(\S+?):calls=(\d+)/g)]
      .map(([, cmd, calls]) => ({ cmd, perRun: Number(calls) / runs }))
      .filter((c) => !['config', 'info'].includes(c.cmd))
      .sort((a, b) => b.perRun - a.perRun);
    out.redisCommandsPerRun = cmds.reduce((a, c) => a + c.perRun, 0);
    out.redis = cmds.map((c) => `${c.cmd} ${c.perRun.toFixed(2)}`).join(', ');
  }
  return out;
}
const globalCpu0 = { postgres: 0, redis: 0 };

// ---- main -----------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch((err) => log('stop failed:', String(err)));
    started.length = 0;
  };
  process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const scenarios: Scenario[] = [
      { key: 'wait-1', mode: 'wait' as Mode, concurrency: 1 },
      { key: 'wait-N', mode: 'wait' as Mode, concurrency: opts.concurrency },
      { key: 'stream-1', mode: 'stream' as Mode, concurrency: 1 },
      { key: 'stream-N', mode: 'stream' as Mode, concurrency: opts.concurrency },
    ].filter((s) => opts.only.includes(s.key));
    const targets: Target[] = [];

    const [redis, postgres] = await Promise.all([
      RedisServer.start(),
      PostgresServer.start(opts.diag ? { extraArgs: ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'] } : {}),
    ]);
    started.push(redis, postgres);
    globalPids.postgres = postgres.pid;
    globalPids.redis = redis.pid;
    globalCpu0.postgres = cpuSeconds(postgres.pid, true);
    globalCpu0.redis = cpuSeconds(redis.pid);
    log(`redis-server pid ${redis.pid} ${redis.url}; postgres pid ${postgres.pid} port ${postgres.port}`);
    if (opts.targets.includes('gateway')) {
      const uri = await postgres.createDatabase('bench_agents');
      if (opts.diag) {
        diag.pg = new PgClient({ connectionString: uri });
        await diag.pg.connect();
        await diag.pg.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
        diag.redis = new Redis(redis.url);
        started.push({ stop: async () => { await diag.pg?.end(); diag.redis?.disconnect(); } });
      }
      const gw = await startGateway(uri, redis.url);
      started.push(gw);
      log(`gateway pid ${gw.pid} ${gw.url} (${opts.gatewayMain})`);
      targets.push({ name: 'gateway', client: new Client({ apiUrl: gw.url }), pids: { server: gw.pid, postgres: postgres.pid, redis: redis.pid } });
    }
    if (opts.targets.includes('reference')) {
      provideReferenceRunner();
      const ref = await LangGraphReferenceServer.start({ graphs: { [GRAPH_ID]: './trivial-graph.mjs:graph' }, cwd: HERE, logLevel: 'error' });
      started.push(ref);
      log(`reference pid ${ref.pid} ${ref.url}`);
      targets.push({ name: 'reference', client: new Client({ apiUrl: ref.url }), pids: { server: ref.pid! } });
    }

    // Warm-up (and a first rate estimate per scenario, to size each measurement's thread pool).
    const rate = new Map<string, number>();
    for (const t of targets) {
      for (const s of scenarios) {
        const threads = await createThreads(t.client, Math.max(20, Math.ceil(400 * opts.warmup)));
        const m = await measure(t, s, threads, opts.warmup, Math.min(4, threads.length), opts.warmup * 4);
        rate.set(`${t.name}/${s.key}`, m.runs / m.seconds);
        log(`warm-up ${t.name} ${s.key}: ${m.runs} runs in ${m.seconds.toFixed(1)} s (${(m.runs / m.seconds).toFixed(1)}/s), ${m.errors} errors`);
      }
    }

    const results: Measurement[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const s of scenarios) {
        for (const t of order) {
          const est = rate.get(`${t.name}/${s.key}`) ?? 10;
          const n = Math.max(opts.minSamples + s.concurrency, Math.ceil(est * opts.duration * 3) + s.concurrency * 4);
          const threads = await createThreads(t.client, n);
          const m = await measure(t, s, threads, opts.duration, opts.minSamples, opts.maxSeconds);
          rate.set(`${t.name}/${s.key}`, m.runs / m.seconds);
          const sorted = [...m.latencies].sort((a, b) => a - b);
          const exhausted = m.runs + m.errors >= threads.length && m.seconds < opts.duration;
          log(
            `round ${round + 1} ${t.name} ${s.key}: ${m.runs} runs in ${m.seconds.toFixed(1)} s = ${(m.runs / m.seconds).toFixed(1)} runs/s, p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, ` +
              `server ${((m.cpu.server / m.runs) * 1e6).toFixed(0)} µs/run, other CPU ${m.otherCores.toFixed(2)} cores${exhausted ? ' (thread pool ran out before --duration)' : ''}`,
          );
          if (m.diagnostics) log(`  round trips per run: ${JSON.stringify(m.diagnostics, null, 1)}`);
          log(`  ${t.name} syscalls per run: ${m.sys.readsPerRun.toFixed(1)} reads, ${m.sys.writesPerRun.toFixed(1)} writes`);
          results.push({ target: t.name, scenario: s.key, round: round + 1, loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '), ...m });
        }
      }
    }

    report(results, scenarios, targets);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ opts, results }, null, 1));
  } finally {
    await stopAll();
  }
}

function report(results: Measurement[], scenarios: Scenario[], targets: Target[]): void {
  const cpuInfo = cpus();
  console.log(`\nmachine: ${cpuInfo.length} vCPU (${cpuInfo[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; loadavg at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`--duration=${opts.duration} --concurrency=${opts.concurrency} --rounds=${opts.rounds} --min-samples=${opts.minSamples}; the gateway: ${opts.gatewayMain}\n`);
  const head = '| target | scenario | runs | errors | runs/s (per round) | p50 ms | p99 ms | first event p50 ms | server CPU µs/run | PostgreSQL µs/run | Redis µs/run | client µs/run | server write syscalls/run | other CPU (cores) |';
  console.log(head);
  console.log(head.replace(/[^|]+/g, '---'));
  const agg = new Map<string, { rps: number; p50: number; p99: number }>();
  for (const s of scenarios) {
    for (const t of targets) {
      const ms = results.filter((r) => r.target === t.name && r.scenario === s.key);
      if (!ms.length) continue;
      const runs = ms.reduce((a, m) => a + m.runs, 0);
      const errors = ms.reduce((a, m) => a + m.errors, 0);
      const secs = ms.reduce((a, m) => a + m.seconds, 0);
      const lat = ms.flatMap((m) => m.latencies).sort((a, b) => a - b);
      const first = ms.flatMap((m) => m.firstEvent).sort((a, b) => a - b);
      const sum = (k: string) => ms.reduce((a, m) => a + (m.cpu[k] ?? 0), 0);
      const per = (k: string) => ((sum(k) / runs) * 1e6).toFixed(0);
      const other = ms.map((m) => m.otherCores.toFixed(2)).join(' / ');
      const rps = runs / secs;
      agg.set(`${t.name}/${s.key}`, { rps, p50: percentile(lat, 50), p99: percentile(lat, 99) });
      const label = s.key.replace('-N', `-${opts.concurrency}`);
      const isGw = t.name === 'gateway';
      console.log(
        `| ${t.name} | ${label} | ${runs} | ${errors} | ${rps.toFixed(1)} (${ms.map((m) => (m.runs / m.seconds).toFixed(1)).join(' / ')}) | ${percentile(lat, 50).toFixed(1)} | ${percentile(lat, 99).toFixed(1)} | ${first.length ? percentile(first, 50).toFixed(1) : '–'} | ${per('server')} | ${isGw ? per('postgres') : '–'} | ${isGw ? per('redis') : '–'} | ${per('client')} | ${(ms.reduce((a, m) => a + m.sys.writesPerRun * m.runs, 0) / runs).toFixed(1)} | ${other} |`,
      );
    }
  }
  if (targets.length < 2) return;
  console.log('\n| scenario | runs/s gateway / reference | target ≥ 20× | gateway p99 vs reference p50 | target p99 < ref p50 |');
  console.log('|---|---|---|---|---|');
  for (const s of scenarios) {
    const g = agg.get(`gateway/${s.key}`);
    const r = agg.get(`reference/${s.key}`);
    if (!g || !r) continue;
    const ratio = g.rps / r.rps;
    console.log(
      `| ${s.key.replace('-N', `-${opts.concurrency}`)} | ${ratio.toFixed(1)}× (${g.rps.toFixed(1)} vs ${r.rps.toFixed(1)}) | ${ratio >= 20 ? 'met' : '**not met**'} | ${g.p99.toFixed(1)} ms vs ${r.p50.toFixed(1)} ms | ${g.p99 < r.p50 ? 'met' : '**not met**'} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

