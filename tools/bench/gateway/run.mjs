// Gateway benchmark, one invocation end to end:
//
//   node_modules/.bin/node tools/bench/gateway/run.mjs [options]      (or: npm run bench:gateway -- [options])
//
// 1. Builds the gateway (ALWAYS by default, so the figures are for the current source; --no-build reuses
//    dist/apps/gateway/main.js when it exists) and bundles apps/gateway/src/runnables/echo-runnable.ts with
//    esbuild (packages external) for the bare LangChain server.
// 2. Starts three servers as child processes on free loopback ports:
//      gateway         dist/apps/gateway/main.js, API keys on, metrics on, LOG_LEVEL=warn, MAX_CONCURRENT_REQUESTS=10000
//      bare-langchain  node:http + JSON.parse + new EchoRunnable().invoke(input)      (bare-server.cjs langchain)
//      bare-echo       node:http + JSON.parse + JSON.stringify({output: input})        (bare-server.cjs echo)
// 3. Throughput: autocannon (in a separate load-generator process, load-worker.mjs) POSTs the same body to
//    each server's /echo/invoke with the same connections and duration; warm-up first, then the servers
//    interleaved for --rounds rounds (A B C A B C ...). req/s, p50/p99, errors, and the ratios.
// 4. Fixed rate: the gateway at --rate req/s: autocannon overallRate (as specified; note autocannon sends
//    each connection's per-second quota back to back, then idles), the same against both bare servers as
//    controls, and an evenly paced open-loop generator (microsecond latencies) against the gateway and the
//    bare LangChain server. The gateway's event-loop delay and GC during the run come from its /metrics.
// 5. Open streams: a second gateway with RUNNABLES_MODULE=hold-runnables.cjs; opens --streams concurrent
//    POST /hold/stream, waits for every first `event: data`, reads RSS (/proc/<pid>/status and the
//    process_resident_memory_bytes metric) and runnel_gateway_open_streams, closes them all and checks the
//    gauge returns to 0 and that every held run was released through its AbortSignal. Then the same against
//    a bare node:http server streaming the same runnable (bare-server.cjs hold-stream) as a control.
//    Needs about --streams + 1024 open files; the soft limit is raised for those children when the hard
//    limit allows, otherwise the run stops and says so.
// 5b. Lambda (issue 9): a gateway with RUNNABLES_MODULE=lambda-runnables.cjs vs a bare node:http server serving
//    the same runnable objects (bare-server.cjs lambda), same load as in 3, interleaved rounds:
//      invoke  POST /lambda/invoke          RunnableLambda.from((x) => x); bare: JSON.parse + .invoke + JSON.stringify
//      stream  POST /lambda_chunks/stream   a RunnableLambda generator yielding 8 chunks, as SSE (metadata, data x8,
//                                           end); bare: `for await (const c of await runnable.stream(input))` in the
//                                           same frames. Every body is checked: `event: end` and exactly 8 data frames.
//    For every server: req/s (wall), p50/p99, and server CPU µs per completed request (utime+stime of the server
//    process from /proc/<pid>/stat before and after the run, divided by the requests autocannon completed);
//    ratios gateway/bare for both; the best round's CPU µs/req; and the CPU split by thread (/proc/<pid>/task:
//    event loop, V8 helper threads for GC and compilation, libuv pool). Target >= 0.8x on each.
// 6. CPU profile (when the gateway is below 0.8x its bare control, or with --profile): the gateway and its bare
//    control are each run under `node --cpu-prof` during a load run, and the top self and inclusive functions
//    are printed (see profile-summary.mjs): /echo/invoke vs bare-langchain when the throughput phase ran, and
//    /lambda/invoke and /lambda_chunks/stream vs bare-lambda (one window each) when the lambda phase ran.
// Prints the machine, a summary table and the targets; writes results JSON to a temp directory; stops every
// child process it started (SIGTERM, then SIGKILL), also on error and SIGINT.
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
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { compareProfiles, formatComparison, formatProfileSummary, summariseProfile } from './profile-summary.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const DEFAULT_GATEWAY_MAIN = join(ROOT, 'dist/apps/gateway/main.js');
const ECHO_SOURCE = join(ROOT, 'apps/gateway/src/runnables/echo-runnable.ts');
const NODE = process.execPath;

const INPUT = { text: 'hello world', n: 42 };
const BODY = JSON.stringify({ input: INPUT });
const EXPECT_OUTPUT = `"output":${JSON.stringify(INPUT)}`;
const TARGETS = { ratio: 0.8, p99Ms: 10, streamsRssMiB: 300 };
const LAMBDA_MODULE = join(HERE, 'lambda-runnables.cjs');
const LAMBDA_CHUNKS = 8;
const CRLF = '\r\n';
/** What each lambda load POSTs and how every reply body is checked (autocannon verifyBody, every response). */
const LAMBDA_LOADS = {
  invoke: { path: '/lambda/invoke', expectOutput: EXPECT_OUTPUT },
  stream: { path: '/lambda_chunks/stream', expectOutput: `event: end${CRLF}${CRLF}`, expectCount: { needle: `event: data${CRLF}`, count: LAMBDA_CHUNKS } },
};

// ------------------------------------------------------------------------------------------------
// options

function option(name, envName, fallback) {
  const flag = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (flag) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : 'true';
  return process.env[envName] ?? fallback;
}
const has = (flag) => process.argv.slice(2).includes(flag);
/** NODE_OPTIONS of the gateway image, docker-bake.hcl's build args: the flags it is deployed with (as tools/docker/image-build-args.ts reads them). */
function deployedNodeOptions() {
  const target = /^target\s+"gateway"\s*\{([\s\S]*?)^\}/m.exec(readFileSync(join(ROOT, 'docker-bake.hcl'), 'utf8'));
  return (target && /\bNODE_OPTIONS\s*=\s*"([^"]*)"/.exec(target[1])?.[1]) ?? '';
}
const num = (name, envName, fallback) => {
  const v = Number(option(name, envName, fallback));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
};

const opts = {
  duration: num('duration', 'BENCH_DURATION', 10),
  connections: num('connections', 'BENCH_CONNECTIONS', 50),
  rounds: Math.round(num('rounds', 'BENCH_ROUNDS', 2)),
  warmup: num('warmup', 'BENCH_WARMUP', 5),
  rate: num('rate', 'BENCH_RATE', 1000),
  rateConnections: num('rate-connections', 'BENCH_RATE_CONNECTIONS', 10),
  rateDuration: num('rate-duration', 'BENCH_RATE_DURATION', 10),
  streams: Math.round(num('streams', 'BENCH_STREAMS', 5000)),
  only: new Set(String(option('only', 'BENCH_ONLY', 'throughput,lambda,rate,streams,profile')).split(',').map((s) => s.trim())),
  build: has('--no-build') ? 'missing' : (process.env.BENCH_BUILD ?? 'always'),
  profile: has('--profile') ? 'always' : has('--no-profile') ? 'never' : (process.env.BENCH_PROFILE ?? 'auto'),
  json: option('json', 'BENCH_JSON', undefined),
  // A/B: benchmark another gateway bundle (e.g. a patched copy) instead of dist/apps/gateway/main.js; no build then.
  gatewayMain: option('gateway-main', 'BENCH_GATEWAY_MAIN', undefined),
  gatewayCommit: option('gateway-commit', 'BENCH_GATEWAY_COMMIT', undefined),
  lambdaAlso: option('lambda-also', 'BENCH_LAMBDA_ALSO', undefined),
  paired: has('--paired') || process.env.BENCH_PAIRED === '1',
  // A/B: extra node flags for every gateway process, space-separated (e.g. "--max-semi-space-size=4")
  // Default: the flags the image runs the gateway with (NODE_OPTIONS, docker-bake.hcl).
  gatewayNodeArgs: String(option('gateway-node-args', 'BENCH_GATEWAY_NODE_ARGS', deployedNodeOptions())).split(' ').filter(Boolean),
};
opts.lambdaBareNodeArgs = String(option('lambda-bare-node-args', 'BENCH_LAMBDA_BARE_NODE_ARGS', opts.gatewayNodeArgs.join(' '))).split(' ').filter(Boolean);
if (opts.gatewayMain && opts.gatewayCommit) throw new Error('--gateway-main and --gateway-commit: give one');
let GATEWAY_MAIN = opts.gatewayMain ? resolve(opts.gatewayMain) : DEFAULT_GATEWAY_MAIN;
if (opts.gatewayMain || opts.gatewayCommit) opts.build = 'missing';

// ------------------------------------------------------------------------------------------------
// child processes: every one is tracked by pid and stopped on exit, error or signal

/**
 * @typedef {{ name: string, proc: import('node:child_process').ChildProcess, pid: number, output: string[], exited: boolean,
 *   exitCode: number | NodeJS.Signals | null, exit: Promise<number | NodeJS.Signals | null> }} Child
 */
/** @type {Map<number | undefined, Child>} */
const children = new Map(); // pid -> child record

/**
 * @param {string} name
 * @param {string[]} args
 * @param {{ env?: Record<string, string | undefined>, ipc?: boolean, nofile?: number | string, nodeArgs?: string[] }} [options]
 * @returns {Child}
 */
function startChild(name, args, { env = {}, ipc = false, nofile, nodeArgs = [] } = {}) {
  const argv = [...nodeArgs, ...args];
  let cmd = NODE;
  let cmdArgs = argv;
  if (nofile) {
    // Raise the open-files limit for this child only (exec keeps the pid, the env and the IPC fd).
    cmd = '/bin/sh';
    cmdArgs = ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, NODE, ...argv];
  }
  const proc = spawn(cmd, cmdArgs, {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  // (`exit` is set just below; unknown: TypeScript will not accept a cast from a literal without it)
  const child = /** @type {Child} */ (/** @type {unknown} */ ({ name, proc, pid: proc.pid, output: [], exited: false, exitCode: null }));
  const keep = (d) => {
    child.output.push(d.toString());
    if (child.output.length > 200) child.output.splice(0, 100);
  };
  // (piped: see stdio)
  /** @type {import('node:stream').Readable} */ (proc.stdout).on('data', keep);
  /** @type {import('node:stream').Readable} */ (proc.stderr).on('data', keep);
  child.exit = new Promise((res) =>
    proc.on('exit', (code, signal) => {
      child.exited = true;
      child.exitCode = code ?? signal;
      children.delete(proc.pid);
      res(child.exitCode);
    }),
  );
  children.set(proc.pid, child);
  return child;
}

/** A small, explicit environment: nothing from the caller's shell (OTEL_*, NODE_OPTIONS, provider keys) leaks in. */
function childEnv(extra) {
  const base = { PATH: `${dirname(NODE)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp', LANG: process.env.LANG ?? 'C.UTF-8' };
  return { ...base, ...extra };
}

async function stopChild(child, graceMs = 5000) {
  if (!child || child.exited) return;
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      if (!child.exited) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  await child.exit;
  clearTimeout(t);
}

function killAllNow() {
  for (const child of children.values()) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

let shuttingDown = false;
async function shutdown(code, why) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (why) process.stderr.write(`\n${why}\n`);
  await Promise.all([...children.values()].map((c) => stopChild(c, 3000)));
  process.exit(code);
}
process.on('exit', killAllNow);
process.on('SIGINT', () => shutdown(130, 'interrupted; stopping child processes'));
process.on('SIGTERM', () => shutdown(143, 'terminated; stopping child processes'));
process.on('uncaughtException', (err) => shutdown(1, `bench failed: ${err?.stack ?? err}`));
process.on('unhandledRejection', (/** @type {any} */ err) => shutdown(1, `bench failed: ${err?.stack ?? err}`));

function tail(child, n = 30) {
  return child.output.join('').split('\n').slice(-n).join('\n');
}

// ------------------------------------------------------------------------------------------------
// helpers

function log(msg) {
  process.stdout.write(`[bench] ${msg}\n`);
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => res(port));
    });
  });
}

async function waitForPort(child, port, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited) throw new Error(`${child.name} exited (${child.exitCode}) before listening:\n${tail(child)}`);
    const ok = await new Promise((res) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${child.name} did not listen on ${port} within ${timeoutMs} ms:\n${tail(child)}`);
}

const CLK_TCK = 100; // USER_HZ on Linux

/** utime+stime of a process in seconds, or NaN when it cannot be read. */
function procCpuSeconds(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/**
 * utime+stime per thread of a process, by thread id, with the thread's name: MainThread (the event loop),
 * V8Worker (GC helpers, concurrent compilation), libuv-worker (fs, dns, crypto.pbkdf2/randomFill async…),
 * and the few others. A thread that is gone by the second read simply drops out.
 */
function procThreadCpu(pid) {
  const out = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, seconds: (Number(rest[11]) + Number(rest[12])) / CLK_TCK });
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}

/** CPU seconds per thread group between two procThreadCpu reads: main, v8 (V8Worker), libuv (libuv-worker), other. */
function threadGroupsDelta(before, after) {
  const groups = { main: 0, v8: 0, libuv: 0, other: 0 };
  for (const [tid, a] of after) {
    const d = a.seconds - (before.get(tid)?.seconds ?? 0);
    const g = a.name === 'MainThread' || a.name === 'node' ? 'main' : a.name.startsWith('V8Worker') ? 'v8' : a.name.startsWith('libuv-worker') ? 'libuv' : 'other';
    groups[g] += d;
  }
  return groups;
}

/** Busy CPU seconds of the whole machine (all cores). */
function machineBusySeconds() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq = 0, softirq = 0, steal = 0] = f; // idle and iowait are not busy
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
}

function openFilesLimit(pid = 'self') {
  const m = /** @type {RegExpExecArray} */ (/^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8')));
  const n = (s) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m[1]), hard: n(m[2]) };
}

async function scrapeMetrics(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    if (!(m[1] in out)) out[m[1]] = Number(m[3]); // first series of each name
    // labelled series without the service label, e.g. nodejs_gc_duration_seconds_sum{kind="major"}
    const labels = (m[2] ?? '').replace(/service="[^"]*",?/, '').replace(/,}$/, '}').replace('{}', '');
    if (labels) out[`${m[1]}${labels}`] = Number(m[3]);
  }
  return out;
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const mhz = /^cpu MHz\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  let cgroupCpu;
  try {
    cgroupCpu = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim();
  } catch {
    // no cgroup v2 CPU limit to report
  }
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(os.availableParallelism());
  return {
    nproc: Number(nproc),
    cpuModel: model,
    cpuMHz: mhz ? Number(mhz) : undefined,
    memoryGiB: memKb / 1024 / 1024,
    cgroupCpuMax: cgroupCpu,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAvgAtStart: os.loadavg(),
  };
}

// ------------------------------------------------------------------------------------------------
// load worker (separate process) over IPC

let worker;
let nextId = 1;
const pending = new Map();

function startWorker(nofile) {
  worker = startChild('load-worker', [join(HERE, 'load-worker.mjs')], { ipc: true, nofile });
  worker.proc.on('message', (/** @type {any} */ msg) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.res(msg.result);
    else p.rej(new Error(`load worker: ${msg.error}`));
  });
  worker.exit.then(() => {
    for (const p of pending.values()) p.rej(new Error(`load worker exited (${worker.exitCode}):\n${tail(worker)}`));
    pending.clear();
  });
}

function ask(type, o) {
  return new Promise((res, rej) => {
    const id = nextId++;
    pending.set(id, { res, rej });
    worker.proc.send({ id, type, opts: o });
  });
}

/** Runs a load step and measures CPU use of the server, the load generator and everything else on the machine. */
async function measured(server, fn) {
  const s0 = procCpuSeconds(server.pid);
  const t0threads = procThreadCpu(server.pid);
  const w0 = procCpuSeconds(worker.pid);
  const p0 = procCpuSeconds(process.pid);
  const m0 = machineBusySeconds();
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  const server_ = procCpuSeconds(server.pid) - s0;
  const threads = threadGroupsDelta(t0threads, procThreadCpu(server.pid));
  const worker_ = procCpuSeconds(worker.pid) - w0;
  const parent_ = procCpuSeconds(process.pid) - p0;
  const machine_ = machineBusySeconds() - m0;
  return {
    ...result,
    cpu: {
      serverSeconds: server_,
      serverThreads: threads,
      serverCores: server_ / wall,
      loadGenCores: worker_ / wall,
      otherCores: Math.max(0, machine_ - server_ - worker_ - parent_) / wall,
    },
  };
}

// ------------------------------------------------------------------------------------------------
// phases

/** Bundles `dir`'s gateway as its apps/gateway/project.json build target does (its esbuildOptions, e.g. loaders, included). */
async function bundleGateway(dir, outfile) {
  const esbuild = await import('esbuild');
  const o = JSON.parse(readFileSync(join(dir, 'apps/gateway/project.json'), 'utf8')).targets.build.options;
  const { outExtension: _outExtension, ...extra } = o.esbuildOptions ?? {};
  await esbuild.build({
    logLevel: 'warning',
    ...extra,
    entryPoints: [join(dir, o.main)],
    outfile,
    bundle: o.bundle !== false,
    platform: o.platform ?? 'node',
    format: o.format?.[0] ?? 'cjs',
    target: o.target ?? 'node24',
    ...(o.thirdParty === false ? { packages: 'external' } : {}),
    sourcemap: o.sourcemap ?? true,
    tsconfig: join(dir, o.tsConfig),
  });
}

/** The gateway as committed at `rev`, bundled like apps/gateway/project.json's build target, in `tmp`. */
async function buildCommit(rev, tmp) {
  const git = (args, o = {}) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', ...o });
  const sha = git(['rev-parse', '--verify', `${rev}^{commit}`]).stdout?.trim();
  if (!sha) throw new Error(`--gateway-commit: ${rev} is not a commit`);
  const dir = join(tmp, `gateway-${sha.slice(0, 12)}`);
  const archive = spawnSync('sh', ['-c', `mkdir -p "$1" && git archive "$2" | tar -x -C "$1"`, 'sh', dir, sha], { cwd: ROOT, encoding: 'utf8' });
  if (archive.status !== 0) throw new Error(`--gateway-commit: git archive ${sha} failed: ${archive.stderr}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const outfile = join(dir, 'dist/apps/gateway/main.js');
  await bundleGateway(dir, outfile);
  const subject = git(['log', '-1', '--format=%h %s', sha]).stdout.trim();
  log(`build: gateway at ${subject.slice(0, 100)} -> ${outfile}`);
  return { built: true, commit: sha, subject, gatewayMain: outfile };
}

function build() {
  if (opts.gatewayMain) {
    if (!existsSync(GATEWAY_MAIN)) throw new Error(`--gateway-main: ${GATEWAY_MAIN} does not exist`);
    log(`build: none; benchmarking ${GATEWAY_MAIN} (--gateway-main)`);
    return { built: false, gatewayMain: GATEWAY_MAIN };
  }
  const missing = !existsSync(GATEWAY_MAIN);
  if (opts.build !== 'always' && !missing) {
    log(`build: reusing ${GATEWAY_MAIN} (--no-build)`);
    return { built: false };
  }
  log('build: nx run gateway:build ...');
  const t0 = Date.now();
  const r = spawnSync(join(ROOT, 'node_modules/.bin/nx'), ['run', 'gateway:build'], {
    cwd: ROOT,
    env: { ...process.env, NX_DAEMON: 'false', PATH: `${dirname(NODE)}:${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`gateway build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  log(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { built: true };
}

async function bundleEchoRunnable(tmp) {
  const esbuild = await import('esbuild');
  const outfile = join(tmp, 'echo-runnable.cjs');
  await esbuild.build({
    entryPoints: [ECHO_SOURCE],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}

/** @typedef {{ env?: Record<string, string | undefined>, nodeArgs?: string[], nofile?: number | string }} ServerOptions */

/**
 * @param {string} name
 * @param {ServerOptions & { main?: string }} [options]
 */
async function startGateway(name, { env = {}, nodeArgs = [], nofile, main = GATEWAY_MAIN } = {}) {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = startChild(name, [main], {
    nodeArgs: [...opts.gatewayNodeArgs, ...nodeArgs],
    nofile,
    env: {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      GATEWAY_API_KEYS: API_KEY,
      LOG_LEVEL: 'warn',
      MAX_CONCURRENT_REQUESTS: '10000',
      SHUTDOWN_TIMEOUT: '3',
      // only matters for a --gateway-main copy outside the repository
      NODE_PATH: join(ROOT, 'node_modules'),
      ...env,
    },
  });
  await waitForPort(child, port);
  await waitForPort(child, metricsPort);
  return Object.assign(child, { port, metricsPort, kind: 'gateway' });
}

/**
 * @param {string} name
 * @param {string} mode
 * @param {string | undefined} bundle
 * @param {ServerOptions} [options]
 */
async function startBare(name, mode, bundle, { nodeArgs = [], nofile, env = {} } = {}) {
  const port = await freePort();
  const child = startChild(name, [join(HERE, 'bare-server.cjs'), mode], {
    nodeArgs,
    nofile,
    env: { PORT: String(port), HOST: '127.0.0.1', ECHO_RUNNABLE_BUNDLE: bundle, NODE_PATH: join(ROOT, 'node_modules'), ...env },
  });
  await waitForPort(child, port);
  return Object.assign(child, { port, kind: mode });
}

const API_KEY = `bench-${randomBytes(12).toString('hex')}`;
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };

async function sanityCheck(server) {
  const url = `http://127.0.0.1:${server.port}/echo/invoke`;
  const res = await fetch(url, { method: 'POST', headers: HEADERS, body: BODY });
  /** @type {any} */
  const json = await res.json();
  if (res.status !== 200 || !isDeepStrictEqual(json.output, INPUT)) {
    throw new Error(`${server.name}: unexpected reply ${res.status} ${JSON.stringify(json)}`);
  }
  if (server.kind !== 'echo' && (typeof json.metadata?.run_id !== 'string' || !Array.isArray(json.metadata?.feedback_tokens))) {
    throw new Error(`${server.name}: reply lacks metadata.run_id/feedback_tokens: ${JSON.stringify(json)}`);
  }
  if (server.kind === 'gateway') {
    const anon = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    await anon.arrayBuffer();
    if (anon.status !== 401) throw new Error(`gateway: expected 401 without an API key, got ${anon.status}`);
  }
}

/**
 * @param {any} server
 * @param {{ duration: number, connections: number, overallRate?: number, path?: string, expectOutput?: string, expectCount?: { needle: string, count: number } }} load
 */
function autocannonRun(server, { duration, connections, overallRate, path = '/echo/invoke', expectOutput = EXPECT_OUTPUT, expectCount }) {
  return measured(server, () =>
    ask('autocannon', {
      url: `http://127.0.0.1:${server.port}${path}`,
      connections,
      duration,
      body: BODY,
      headers: HEADERS,
      overallRate,
      expectOutput,
      expectCount,
    }),
  );
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

function summariseRuns(runs) {
  return {
    runs: runs.length,
    reqPerSec: mean(runs.map((r) => r.reqPerSec)),
    reqPerSecMin: Math.min(...runs.map((r) => r.reqPerSec)),
    reqPerSecMax: Math.max(...runs.map((r) => r.reqPerSec)),
    p50: mean(runs.map((r) => r.latencyMs.p50)),
    p99: mean(runs.map((r) => r.latencyMs.p99)),
    p99Max: Math.max(...runs.map((r) => r.latencyMs.p99)),
    errors: sum(runs.map((r) => r.errors + r.timeouts)),
    non2xx: sum(runs.map((r) => r.non2xx)),
    mismatches: sum(runs.map((r) => r.mismatches)),
    serverCores: mean(runs.map((r) => r.cpu.serverCores)),
    // Server CPU time per request: less sensitive than req/s to other load on the machine. The server's
    // utime+stime over the runs divided by the requests they completed (not by req/s x wall time: the
    // measured wall time also holds autocannon's start-up and the IPC round trip).
    cpuUsPerReq: (sum(runs.map((r) => r.cpu.serverSeconds)) * 1e6) / sum(runs.map((r) => r.total)),
    // The best round: other load only ever adds CPU time (cache and core sharing), so on a busy machine this is the steadier figure.
    cpuUsPerReqMin: Math.min(...runs.map((r) => (r.cpu.serverSeconds * 1e6) / r.total)),
    // the same split by thread: the event loop, V8's helper threads (GC, compiler), libuv's pool, the rest
    cpuUsPerReqByThread: Object.fromEntries(
      ['main', 'v8', 'libuv', 'other'].map((g) => [g, (sum(runs.map((r) => r.cpu.serverThreads?.[g] ?? 0)) * 1e6) / sum(runs.map((r) => r.total))]),
    ),
    loadGenCores: mean(runs.map((r) => r.cpu.loadGenCores)),
    otherCoresMax: Math.max(...runs.map((r) => r.cpu.otherCores)),
  };
}

async function throughputPhase(servers) {
  log(`throughput: warm-up ${opts.warmup} s per server, ${opts.connections} connections`);
  for (const s of servers) await autocannonRun(s, { duration: opts.warmup, connections: opts.connections });
  const runs = Object.fromEntries(servers.map((s) => [s.name, []]));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const s of servers) {
      const r = await autocannonRun(s, { duration: opts.duration, connections: opts.connections });
      runs[s.name].push(r);
      log(
        `throughput: round ${round} ${s.name.padEnd(14)} ${r.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms  ` +
          `errors ${r.errors + r.timeouts}  non2xx ${r.non2xx}  mismatches ${r.mismatches}  cpu: server ${r.cpu.serverCores.toFixed(2)} loadgen ${r.cpu.loadGenCores.toFixed(2)} other ${r.cpu.otherCores.toFixed(2)} cores`,
      );
    }
  }
  const summary = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, summariseRuns(v)]));
  const g = summary.gateway.reqPerSec;
  const l = summary['bare-langchain'].reqPerSec;
  const e = summary['bare-echo'].reqPerSec;
  const cpu = (k) => summary[k].cpuUsPerReq;
  return {
    runs,
    summary,
    ratios: {
      gatewayOverBareLangchain: g / l,
      bareLangchainOverBareEcho: l / e,
      gatewayOverBareEcho: g / e,
      // the same ratios from server CPU per request (bare / gateway): what throughput would be with a core each
      cpuGatewayOverBareLangchain: cpu('bare-langchain') / cpu('gateway'),
      cpuBareLangchainOverBareEcho: cpu('bare-echo') / cpu('bare-langchain'),
    },
  };
}

// --- lambda (issue 9) -----------------------------------------------------------------------------

/**
 * @param {string} name
 * @param {{ nodeArgs?: string[], main?: string }} [options]
 */
function startLambdaGateway(name, { nodeArgs = [], main } = {}) {
  return startGateway(name, { nodeArgs, main, env: { RUNNABLES_MODULE: LAMBDA_MODULE, LAMBDA_CHUNKS: String(LAMBDA_CHUNKS) } });
}

// The lambda control runs with the gateway's node flags (by default the image's NODE_OPTIONS, e.g. a smaller
// young generation), so the two differ in server code only; --lambda-bare-node-args="" gives it V8's defaults.
/**
 * @param {string} name
 * @param {{ nodeArgs?: string[] }} [options]
 */
function startLambdaBare(name, { nodeArgs = [] } = {}) {
  return startBare(name, 'lambda', '', { nodeArgs: [...opts.lambdaBareNodeArgs, ...nodeArgs], env: { LAMBDA_CHUNKS: String(LAMBDA_CHUNKS) } });
}

/** SSE text -> [{event, data}] (LangServe frames: `event: X\r\ndata: Y\r\n\r\n`; `: ping` comments skipped). */
function parseSse(text) {
  return text
    .split(`${CRLF}${CRLF}`)
    .filter((f) => f && !f.startsWith(':'))
    .map((f) => {
      const event = /^event: (.*)$/m.exec(f)?.[1];
      const data = /^data: (.*)$/m.exec(f)?.[1];
      return { event, data: data === undefined ? undefined : JSON.parse(data) };
    });
}

/**
 * Both lambda servers must give the same answers before their speed is compared: invoke's output, and a
 * complete stream (metadata with a run id, LAMBDA_CHUNKS data frames equal across servers, end). Returns
 * the stream's data so the caller can compare the servers.
 */
async function lambdaSanityCheck(server) {
  const base = `http://127.0.0.1:${server.port}`;
  const inv = await fetch(`${base}${LAMBDA_LOADS.invoke.path}`, { method: 'POST', headers: HEADERS, body: BODY });
  /** @type {any} */
  const json = await inv.json();
  if (inv.status !== 200 || !isDeepStrictEqual(json.output, INPUT) || typeof json.metadata?.run_id !== 'string') {
    throw new Error(`${server.name}: unexpected /lambda/invoke reply ${inv.status} ${JSON.stringify(json)}`);
  }
  const st = await fetch(`${base}${LAMBDA_LOADS.stream.path}`, { method: 'POST', headers: HEADERS, body: BODY });
  const text = await st.text();
  const frames = parseSse(text);
  const events = frames.map((f) => f.event).join(',');
  const want = ['metadata', ...Array(LAMBDA_CHUNKS).fill('data'), 'end'].join(',');
  if (st.status !== 200 || !/^text\/event-stream/.test(st.headers.get('content-type') ?? '') || events !== want || typeof frames[0].data?.run_id !== 'string') {
    throw new Error(`${server.name}: incomplete ${LAMBDA_LOADS.stream.path} reply ${st.status} (events ${events}; want ${want}):\n${text.slice(0, 2000)}`);
  }
  if (server.kind === 'gateway') {
    const anon = await fetch(`${base}${LAMBDA_LOADS.stream.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    await anon.arrayBuffer();
    if (anon.status !== 401) throw new Error(`gateway: expected 401 on ${LAMBDA_LOADS.stream.path} without an API key, got ${anon.status}`);
  }
  return { streamData: frames.filter((f) => f.event === 'data').map((f) => f.data), streamBytes: Buffer.byteLength(text) };
}

/** `gateways[0]` is the gateway under test; any others (--lambda-also) run in the same rounds for comparison. */
async function lambdaPhase(gateways, bare) {
  const servers = [...gateways, bare];
  const checks = [];
  for (const s of servers) checks.push(await lambdaSanityCheck(s));
  const bareCheck = checks[checks.length - 1];
  for (let i = 0; i < servers.length - 1; i++) {
    if (!isDeepStrictEqual(checks[i].streamData, bareCheck.streamData)) {
      throw new Error(`lambda: ${servers[i].name} and ${bare.name} stream different chunks:\n${JSON.stringify(checks[i].streamData)}\n${JSON.stringify(bareCheck.streamData)}`);
    }
  }
  log(`lambda: the servers answer alike (stream: ${LAMBDA_CHUNKS} data frames + end; ${checks.map((c) => c.streamBytes).join(' / ')} bytes per stream body)`);
  const gateway = gateways[0];
  const out = { streamBytes: { gateway: checks[0].streamBytes, bare: bareCheck.streamBytes }, gateways: gateways.map((g) => ({ name: g.name, main: g.main })) };
  for (const [endpoint, load] of Object.entries(LAMBDA_LOADS)) {
    // --paired: every server under load at the same time (the connections split between them), so each
    // round's noise from the rest of the machine falls on all of them alike; otherwise one after another.
    const connections = opts.paired ? Math.max(1, Math.ceil(opts.connections / servers.length)) : opts.connections;
    const each = async (fn) => (opts.paired ? Promise.all(servers.map(fn)) : servers.reduce(async (acc, s) => [...(await acc), await fn(s)], Promise.resolve([])));
    log(`lambda ${endpoint}: POST ${load.path}, warm-up ${opts.warmup} s per server, ${connections} connections${opts.paired ? ' each, all servers at once (--paired)' : ''}`);
    await each((s) => autocannonRun(s, { duration: opts.warmup, connections, ...load }));
    const runs = Object.fromEntries(servers.map((s) => [s.name, []]));
    for (let round = 1; round <= opts.rounds; round++) {
      const results = await each((s) => autocannonRun(s, { duration: opts.duration, connections, ...load }));
      for (const [i, s] of servers.entries()) {
        const r = results[i];
        runs[s.name].push(r);
        log(
          `lambda ${endpoint}: round ${round} ${s.name.padEnd(14)} ${r.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms  ` +
            `errors ${r.errors + r.timeouts}  non2xx ${r.non2xx}  bad body ${r.mismatches}  CPU ${((r.cpu.serverSeconds * 1e6) / r.total).toFixed(0)} us/req  ` +
            `cpu: server ${r.cpu.serverCores.toFixed(2)} loadgen ${r.cpu.loadGenCores.toFixed(2)} other ${r.cpu.otherCores.toFixed(2)} cores`,
        );
      }
    }
    const summary = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, summariseRuns(v)]));
    const b = summary[bare.name];
    // gateway / bare: req/s, and CPU per request inverted (bare µs / gateway µs) so that both read "1.0 = as fast as bare"
    const ratiosOf = (g) => ({
      reqPerSec: g.reqPerSec / b.reqPerSec,
      cpu: b.cpuUsPerReq / g.cpuUsPerReq,
      cpuBestRound: b.cpuUsPerReqMin / g.cpuUsPerReqMin,
      cpuUsPerReqGatewayOverBare: g.cpuUsPerReq / b.cpuUsPerReq,
    });
    out[endpoint] = {
      path: load.path,
      runs,
      summary,
      ratios: ratiosOf(summary[gateway.name]),
      ratiosBy: Object.fromEntries(gateways.map((g) => [g.name, ratiosOf(summary[g.name])])),
    };
  }
  return out;
}

/**
 * The gateway's own view of a run, from its /metrics before and after: event-loop stalls (prom-client's
 * monitorEventLoopDelay, reset at every scrape, 10 ms resolution) and GC time by kind.
 */
async function withRuntimeStats(gateway, fn) {
  const before = await scrapeMetrics(gateway.metricsPort); // also resets the event-loop delay histogram
  const result = await fn();
  const after = await scrapeMetrics(gateway.metricsPort);
  const gc = {};
  for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
    const k = (s) => `nodejs_gc_duration_seconds_${s}{kind="${kind}"}`;
    const count = (after[k('count')] ?? 0) - (before[k('count')] ?? 0);
    if (count > 0) {
      const over10ms = count - ((after[`nodejs_gc_duration_seconds_bucket{le="0.01",kind="${kind}"}`] ?? 0) - (before[`nodejs_gc_duration_seconds_bucket{le="0.01",kind="${kind}"}`] ?? 0));
      gc[kind] = { count, totalMs: ((after[k('sum')] ?? 0) - (before[k('sum')] ?? 0)) * 1000, over10ms };
    }
  }
  return {
    ...result,
    runtime: {
      eventLoopDelayP99Ms: after.nodejs_eventloop_lag_p99_seconds * 1000,
      eventLoopDelayMaxMs: after.nodejs_eventloop_lag_max_seconds * 1000,
      gc,
    },
  };
}

function pacedRun(server) {
  return measured(server, () =>
    ask('paced', {
      host: '127.0.0.1',
      port: server.port,
      path: '/echo/invoke',
      rate: opts.rate,
      duration: opts.rateDuration,
      body: BODY,
      headers: HEADERS,
      expectOutput: EXPECT_OUTPUT,
    }),
  );
}

function describeRuntime(rt) {
  if (!rt) return '';
  const gc = Object.entries(rt.gc)
    .map(([k, v]) => `${k} ${v.count}x/${v.totalMs.toFixed(0)} ms${v.over10ms ? ` (${v.over10ms} >10 ms)` : ''}`)
    .join(', ');
  return `gateway event-loop delay p99 ${rt.eventLoopDelayP99Ms.toFixed(1)} ms max ${rt.eventLoopDelayMaxMs.toFixed(1)} ms (10 ms sampling); GC ${gc || 'none'}`;
}

async function ratePhase(gateway, bareLc, controls) {
  log(`fixed rate: gateway at ${opts.rate} req/s, autocannon overallRate, ${opts.rateConnections} connections, ${opts.rateDuration} s`);
  const auto = await withRuntimeStats(gateway, () =>
    autocannonRun(gateway, { duration: opts.rateDuration, connections: opts.rateConnections, overallRate: opts.rate }),
  );
  log(
    `fixed rate (autocannon): ${auto.reqPerSec.toFixed(0)} req/s  p50 ${auto.latencyMs.p50} ms  p99 ${auto.latencyMs.p99} ms  p99.9 ${auto.latencyMs.p99_9} ms  max ${auto.latencyMs.max} ms  non2xx ${auto.non2xx}; ` +
      describeRuntime(auto.runtime),
  );
  const out = { autocannon: auto, controls: {} };
  // The same autocannon settings against the bare servers: autocannon's rate limiting sends each
  // connection's per-second quota back to back and then idles, so its tail is partly the generator's.
  for (const server of controls) {
    const c = await autocannonRun(server, { duration: opts.rateDuration, connections: opts.rateConnections, overallRate: opts.rate });
    log(`fixed rate (autocannon, control ${server.name}): ${c.reqPerSec.toFixed(0)} req/s  p50 ${c.latencyMs.p50} ms  p99 ${c.latencyMs.p99} ms  p99.9 ${c.latencyMs.p99_9} ms  max ${c.latencyMs.max} ms`);
    out.controls[server.name] = c;
  }
  for (const [key, server] of [
    ['paced', gateway],
    ['pacedBareLangchain', bareLc],
  ]) {
    log(`fixed rate: ${server.name} at ${opts.rate} req/s, evenly paced open loop (node:http client), ${opts.rateDuration} s`);
    const r = server.kind === 'gateway' ? await withRuntimeStats(server, () => pacedRun(server)) : await pacedRun(server);
    const sv = r.serviceMs;
    log(
      `fixed rate (paced, ${server.name}): ${r.achievedRate.toFixed(0)} req/s  p50 ${sv.p50.toFixed(2)} ms  p99 ${sv.p99.toFixed(2)} ms  p99.9 ${sv.p99_9.toFixed(2)} ms  max ${sv.max.toFixed(2)} ms  ` +
        `(from schedule: p99 ${r.scheduledMs.p99.toFixed(2)} ms)  errors ${r.errors}  other CPU ${r.cpu.otherCores.toFixed(2)} cores${r.runtime ? `; ${describeRuntime(r.runtime)}` : ''}`,
    );
    out[key] = r;
  }
  return out;
}

/**
 * Opens opts.streams concurrent POST /hold/stream on `server`, waits for every first `event: data`, reads
 * memory, closes them all and waits until none is left open. On the gateway "open" is the
 * runnel_gateway_open_streams gauge; on the bare control it is the number of held runs.
 */
async function streamsOn(server) {
  const n = opts.streams;
  const isGateway = server.kind === 'gateway';
  const holdStats = async () => {
    const r = await fetch(`http://127.0.0.1:${server.port}/hold_stats/invoke`, { method: 'POST', headers: HEADERS, body: '{"input":null}' });
    return /** @type {any} */ (await r.json()).output;
  };
  const openNow = async () => (isGateway ? (await scrapeMetrics(server.metricsPort)).runnel_gateway_open_streams : (await holdStats()).active);
  const streamReq = { host: '127.0.0.1', port: server.port, path: '/hold/stream', body: BODY, headers: HEADERS };
  const waitForZero = async (timeoutMs = 30_000) => {
    const t0 = performance.now();
    let open;
    while (performance.now() - t0 < timeoutMs) {
      open = await openNow();
      if (open === 0) break;
      await sleep(100);
    }
    return { ms: performance.now() - t0, open };
  };

  // Warm-up: some streams opened and closed, so the code paths are compiled before the baseline.
  log(`streams (${server.name}): warm-up (200 streams opened and closed)`);
  await ask('streams-open', { ...streamReq, count: 200 });
  await ask('streams-close', {});
  await waitForZero();
  await sleep(1000);
  const before = { ...procStatus(server.pid), hold: await holdStats() };
  log(`streams (${server.name}): RSS before ${before.rssMiB.toFixed(1)} MiB; opening ${n} streams`);

  const opened = await ask('streams-open', { ...streamReq, count: n, window: 200 });
  await sleep(500);
  const open = { ...procStatus(server.pid), ...opened, openNow: await openNow(), hold: await holdStats() };
  if (isGateway) {
    const m = await scrapeMetrics(server.metricsPort);
    Object.assign(open, {
      inFlightGauge: m.runnel_gateway_in_flight,
      metricRssMiB: m.process_resident_memory_bytes / 2 ** 20,
      heapUsedMiB: m.nodejs_heap_size_used_bytes / 2 ** 20,
      heapTotalMiB: m.nodejs_heap_size_total_bytes / 2 ** 20,
      externalMiB: m.nodejs_external_memory_bytes / 2 ** 20,
      openFds: m.process_open_fds,
    });
  }
  log(
    `streams (${server.name}): ${open.open}/${n} got first data in ${(open.openMs / 1000).toFixed(1)} s (failed ${open.failed}); ` +
      `${isGateway ? 'open_streams gauge' : 'held runs'} ${open.openNow}; RSS ${open.rssMiB.toFixed(1)} MiB` +
      (isGateway ? ` (metric ${open.metricRssMiB.toFixed(1)} MiB), heap used ${open.heapUsedMiB.toFixed(1)} / total ${open.heapTotalMiB.toFixed(1)} MiB` : ''),
  );

  const closed = await ask('streams-close', {});
  const drop = await waitForZero();
  await sleep(1000);
  const after = { ...procStatus(server.pid), ...closed, dropMs: drop.ms, openNow: drop.open, hold: await holdStats() };
  const released = after.hold.aborted - before.hold.aborted;
  log(
    `streams (${server.name}): closed ${after.closed}; open ${after.openNow} after ${after.dropMs.toFixed(0)} ms; held runs still active ${after.hold.active}; ` +
      `released by AbortSignal ${released}/${open.open}; RSS ${after.rssMiB.toFixed(1)} MiB`,
  );
  return { streams: n, before, open, after, releasedBySignal: released, perStreamKiB: ((open.rssMiB - before.rssMiB) * 1024) / (open.open || 1) };
}

async function streamsPhase(nofile) {
  const n = opts.streams;
  const gw = await startGateway('gateway-streams', {
    nofile,
    env: {
      RUNNABLES_MODULE: join(HERE, 'hold-runnables.cjs'),
      HOLD_SECONDS: '600',
      MAX_CONCURRENT_REQUESTS: String(Math.max(10_000, n + 1000)),
    },
  });
  const gateway = await streamsOn(gw);
  await stopChild(gw);
  // Control: the same runnable streamed by a bare node:http server, for what LangChain + node:http cost alone.
  const bare = await startBare('bare-hold-stream', 'hold-stream', '', { nofile, env: { HOLD_SECONDS: '600' } });
  const control = await streamsOn(bare);
  await stopChild(bare);
  return { ...gateway, control };
}

/**
 * Runs each server under `node --cpu-prof` for one or more loads (warm-up, then the measured run) and
 * summarises the measured window of each load separately; start-up and warm-up are left out.
 */
async function profileServers(tmp, group, targets, loads) {
  const out = {};
  for (const { name, start } of targets) {
    const dir = join(tmp, `profile-${group}-${name}`);
    const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const spawnedAt = performance.now();
    const server = await start(nodeArgs);
    const windows = [];
    for (const load of loads) {
      log(`profile (${group}): ${name} ${load.path} under --cpu-prof, ${opts.warmup} s warm-up + ${opts.duration} s load`);
      await autocannonRun(server, { duration: opts.warmup, connections: opts.connections, ...load });
      const fromMs = performance.now() - spawnedAt;
      const run = await autocannonRun(server, { duration: opts.duration, connections: opts.connections, ...load });
      windows.push({ load, fromMs, toMs: performance.now() - spawnedAt, run });
    }
    await stopChild(server, 15_000);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
    if (!files.length) {
      log(`profile: no .cpuprofile written for ${name}`);
      continue;
    }
    const file = join(dir, files[0]);
    for (const w of windows) {
      const key = loads.length === 1 ? name : `${name} ${w.load.path}`;
      const windowMs = { fromMs: w.fromMs + 250, toMs: w.toMs - 250 };
      const summary = summariseProfile(file, { top: 25, repoRoot: ROOT, window: windowMs, all: true });
      const cpuUsPerReq = (w.run.cpu.serverSeconds * 1e6) / w.run.total;
      // requests completed inside the summarised window (the run's rate times the window), for per-request figures
      const requests = w.run.total * ((windowMs.toMs - windowMs.fromMs) / (w.toMs - w.fromMs));
      const { functions, ...kept } = summary;
      out[key] = { file, path: w.load.path, reqPerSecUnderProfiler: w.run.reqPerSec, requests, cpuUsPerReqUnderProfiler: cpuUsPerReq, summary: kept };
      Object.defineProperty(out[key], 'functions', { value: functions, enumerable: false }); // not in the results JSON
      process.stdout.write(
        `\n${formatProfileSummary(summary, { label: `${key} (${w.run.reqPerSec.toFixed(0)} req/s, ${cpuUsPerReq.toFixed(0)} us CPU/req under the profiler; ${w.run.total} requests)` })}\n\n`,
      );
    }
  }
  // The last target is the bare control: what each gateway runs that the control does not; with a second
  // gateway (--lambda-also), also what it runs that the first does not.
  const names = targets.map((t) => t.name);
  const control = names.at(-1);
  const pairs = names.slice(0, -1).map((n) => [n, control]);
  if (names.length > 2) pairs.push([names[1], names[0]]);
  out.comparisons = {};
  for (const load of loads) {
    for (const [a, b] of pairs) {
      const ka = loads.length === 1 ? a : `${a} ${load.path}`;
      const kb = loads.length === 1 ? b : `${b} ${load.path}`;
      if (!out[ka]?.functions || !out[kb]?.functions) continue;
      const c = compareProfiles(
        { ...out[ka].summary, functions: out[ka].functions },
        { ...out[kb].summary, functions: out[kb].functions },
        { requestsA: out[ka].requests, requestsB: out[kb].requests, top: 20 },
      );
      out.comparisons[`${a} vs ${b} ${load.path}`] = c;
      process.stdout.write(`\n${formatComparison(c, { label: `${a} ${load.path}`, labelB: b })}\n\n`);
    }
  }
  return out;
}

function profilePhase(bundle, tmp) {
  return profileServers(
    tmp,
    'echo',
    [
      { name: 'gateway', start: (nodeArgs) => startGateway('gateway-profiled', { nodeArgs }) },
      { name: 'bare-langchain', start: (nodeArgs) => startBare('bare-lc-profiled', 'langchain', bundle, { nodeArgs }) },
    ],
    [{ path: '/echo/invoke', expectOutput: EXPECT_OUTPUT }],
  );
}

function lambdaProfilePhase(tmp, also) {
  return profileServers(
    tmp,
    'lambda',
    [
      { name: 'gateway', start: (nodeArgs) => startLambdaGateway('gateway-lambda-profiled', { nodeArgs }) },
      ...(also ? [{ name: 'gateway-also', start: (nodeArgs) => startLambdaGateway('gateway-also-profiled', { nodeArgs, main: also.gatewayMain }) }] : []),
      { name: 'bare-lambda', start: (nodeArgs) => startLambdaBare('bare-lambda-profiled', { nodeArgs }) },
    ],
    Object.values(LAMBDA_LOADS),
  );
}

// ------------------------------------------------------------------------------------------------
// report

const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const met = (ok) => (ok ? 'MET' : 'NOT MET');

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')).join('\n');
}

function report(results) {
  const lines = [];
  const m = results.machine;
  lines.push('', '=== Gateway benchmark ===');
  lines.push(
    `Machine: ${m.nproc} CPU (${m.cpuModel}${m.cpuMHz ? `, ${m.cpuMHz} MHz` : ''}), ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.kernel}, Node ${m.node}` +
      `${m.cgroupCpuMax ? `, cgroup cpu.max ${m.cgroupCpuMax}` : ''}; load average at start ${m.loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}`,
  );
  lines.push(`Command: node_modules/.bin/node tools/bench/gateway/run.mjs ${process.argv.slice(2).join(' ')}`.trimEnd());
  const b = results.build;
  lines.push(`Gateway: ${b.commit ? `commit ${b.subject}` : b.gatewayMain ? b.gatewayMain : `working tree (${b.built ? 'built now' : 'existing build'}; HEAD ${results.head})`}`);
  const t = results.throughput;
  if (t) {
    lines.push(
      '',
      `Throughput: POST /echo/invoke ${BODY}, ${opts.connections} connections, ${opts.duration} s x ${opts.rounds} rounds interleaved (after ${opts.warmup} s warm-up each); means of rounds`,
    );
    const rows = [['server', 'req/s', 'min', 'max', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'bad body', 'server CPU', 'CPU us/req', 'loadgen CPU', 'other CPU (max)']];
    for (const [name, s] of Object.entries(t.summary)) {
      rows.push([name, f0(s.reqPerSec), f0(s.reqPerSecMin), f0(s.reqPerSecMax), f1(s.p50), f1(s.p99), s.errors, s.non2xx, s.mismatches, f2(s.serverCores), f0(s.cpuUsPerReq), f2(s.loadGenCores), f2(s.otherCoresMax)]);
    }
    lines.push(table(rows));
    lines.push(
      `Ratios (req/s): gateway / bare-langchain = ${f2(t.ratios.gatewayOverBareLangchain)}   bare-langchain / bare-echo = ${f2(t.ratios.bareLangchainOverBareEcho)}   gateway / bare-echo = ${f2(t.ratios.gatewayOverBareEcho)}`,
    );
    lines.push(
      `Ratios (server CPU per request, inverted): gateway vs bare-langchain = ${f2(t.ratios.cpuGatewayOverBareLangchain)}   bare-langchain vs bare-echo = ${f2(t.ratios.cpuBareLangchainOverBareEcho)}`,
    );
    lines.push('  (server/loadgen/other CPU in cores: "other" is everything else on the machine during the run.)');
  }
  const la = results.lambda;
  if (la) {
    lines.push(
      '',
      `Lambda (issue 9): gateway with RUNNABLES_MODULE=lambda-runnables.cjs vs bare node:http serving the same runnables; ${BODY}, ` +
        `node flags: gateway [${opts.gatewayNodeArgs.join(' ')}], bare [${opts.lambdaBareNodeArgs.join(' ')}]; ` +
        (opts.paired
          ? `${Math.ceil(opts.connections / (la.gateways.length + 1))} connections per server, all servers loaded at once (--paired), ${opts.duration} s x ${opts.rounds} rounds (after ${opts.warmup} s warm-up); means of rounds; `
          : `${opts.connections} connections, ${opts.duration} s x ${opts.rounds} rounds interleaved (after ${opts.warmup} s warm-up each); means of rounds; `) +
        `CPU us/req = server utime+stime / completed requests`,
    );
    const rows = [['endpoint', 'server', 'req/s', 'min', 'max', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'bad body', 'server CPU', 'CPU us/req', 'best round', 'loadgen CPU', 'other CPU (max)']];
    for (const endpoint of Object.keys(LAMBDA_LOADS)) {
      for (const [name, x] of Object.entries(la[endpoint].summary)) {
        rows.push([la[endpoint].path, name, f0(x.reqPerSec), f0(x.reqPerSecMin), f0(x.reqPerSecMax), f1(x.p50), f1(x.p99), x.errors, x.non2xx, x.mismatches, f2(x.serverCores), f1(x.cpuUsPerReq), f1(x.cpuUsPerReqMin), f2(x.loadGenCores), f2(x.otherCoresMax)]);
      }
    }
    lines.push(table(rows));
    lines.push('CPU us/req by thread (event loop / V8 helper threads: GC, compiler / libuv pool / other):');
    for (const endpoint of Object.keys(LAMBDA_LOADS)) {
      for (const [name, x] of Object.entries(la[endpoint].summary)) {
        const t = x.cpuUsPerReqByThread;
        lines.push(`  ${la[endpoint].path.padEnd(22)} ${name.padEnd(16)} main ${f1(t.main).padStart(6)}  v8 ${f1(t.v8).padStart(6)}  libuv ${f1(t.libuv).padStart(5)}  other ${f1(t.other).padStart(5)}`);
      }
    }
    for (const endpoint of Object.keys(LAMBDA_LOADS)) {
      for (const [name, q] of Object.entries(la[endpoint].ratiosBy)) {
        lines.push(
          `Ratios ${endpoint.padEnd(6)} ${name} / bare: req/s ${f2(q.reqPerSec)}   CPU per request (bare us / gateway us) ${f2(q.cpu)}, best rounds ${f2(q.cpuBestRound)}   (gateway uses ${f2(q.cpuUsPerReqGatewayOverBare)}x the bare server's CPU per request)`,
        );
      }
    }
    if (la.gateways.length > 1) lines.push(`  (gateways: ${la.gateways.map((g) => `${g.name} = ${g.main}`).join('; ')})`);
    lines.push(`  (stream bodies: ${LAMBDA_CHUNKS} data frames + metadata + end, every body checked; ${la.streamBytes.gateway} bytes from the gateway, ${la.streamBytes.bare} from bare)`);
  }
  const r = results.rate;
  if (r) {
    const a = r.autocannon;
    const p = r.paced;
    lines.push('', `Fixed rate ${opts.rate} req/s on the gateway, ${opts.rateDuration} s:`);
    lines.push(
      table([
        ['server / generator', 'achieved req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'non-2xx', 'server CPU', 'other CPU'],
        [`gateway, autocannon overallRate (${opts.rateConnections} conns)`, f0(a.reqPerSec), a.latencyMs.p50, a.latencyMs.p99, a.latencyMs.p99_9, a.latencyMs.max, a.errors + a.timeouts, a.non2xx, f2(a.cpu.serverCores), f2(a.cpu.otherCores)],
        ...Object.entries(r.controls).map(([name, c]) => [
          `${name}, autocannon overallRate (control)`,
          f0(c.reqPerSec),
          c.latencyMs.p50,
          c.latencyMs.p99,
          c.latencyMs.p99_9,
          c.latencyMs.max,
          c.errors + c.timeouts,
          c.non2xx,
          f2(c.cpu.serverCores),
          f2(c.cpu.otherCores),
        ]),
        ...[
          ['gateway, paced open loop', p],
          ['bare-langchain, paced open loop (control)', r.pacedBareLangchain],
        ].map(([label, x]) => [
          label,
          f0(x.achievedRate),
          f2(x.serviceMs.p50),
          f2(x.serviceMs.p99),
          f2(x.serviceMs.p99_9),
          f2(x.serviceMs.max),
          x.errors,
          sum(Object.entries(x.statusCodes).filter(([c]) => !c.startsWith('2')).map(([, v]) => v)),
          f2(x.cpu.serverCores),
          f2(x.cpu.otherCores),
        ]),
      ]),
    );
    lines.push('  (autocannon records whole milliseconds; the paced generator measures microseconds from write to last byte.)');
    lines.push(`  gateway during autocannon: ${describeRuntime(a.runtime)}`);
    lines.push(`  gateway during paced:      ${describeRuntime(p.runtime)}`);
  }
  const s = results.streams;
  if (s) {
    const c = s.control;
    lines.push('', `Open streams: ${s.streams} concurrent POST /hold/stream (one chunk, then held open until the client goes):`);
    lines.push(
      table([
        ['', 'gateway', 'bare node:http + same runnable (control)'],
        ['streams with first data event', `${s.open.open}/${s.streams} (failed ${s.open.failed}) in ${f1(s.open.openMs / 1000)} s`, `${c.open.open}/${c.streams} (failed ${c.open.failed}) in ${f1(c.open.openMs / 1000)} s`],
        ['open streams (gateway: runnel_gateway_open_streams; control: held runs)', String(s.open.openNow), String(c.open.openNow)],
        ['RSS before (MiB)', f1(s.before.rssMiB), f1(c.before.rssMiB)],
        ['RSS with streams open (MiB)', `${f1(s.open.rssMiB)} (metric ${f1(s.open.metricRssMiB)}; VmHWM ${f1(s.open.hwmMiB)})`, f1(c.open.rssMiB)],
        ['  V8 heap used / total with streams open (MiB)', `${f1(s.open.heapUsedMiB)} / ${f1(s.open.heapTotalMiB)}`, '-'],
        ['RSS per stream (KiB, delta)', f1(s.perStreamKiB), f1(c.perStreamKiB)],
        ['after close: open streams', `${s.after.openNow} (in ${f0(s.after.dropMs)} ms)`, `${c.after.openNow} (in ${f0(c.after.dropMs)} ms)`],
        ['after close: runs released via AbortSignal', `${s.releasedBySignal}/${s.open.open}, still held ${s.after.hold.active}`, `${c.releasedBySignal}/${c.open.open}, still held ${c.after.hold.active}`],
        ['RSS after close (MiB)', f1(s.after.rssMiB), f1(c.after.rssMiB)],
      ]),
    );
  }
  lines.push('', 'Targets:');
  if (t) lines.push(`  gateway >= ${TARGETS.ratio}x bare LangChain server: ${f2(t.ratios.gatewayOverBareLangchain)}x  ${met(t.ratios.gatewayOverBareLangchain >= TARGETS.ratio)}`);
  if (la) {
    for (const endpoint of Object.keys(LAMBDA_LOADS)) {
      const q = la[endpoint].ratios;
      const clean = Object.values(la[endpoint].summary).every((x) => x.errors === 0 && x.non2xx === 0 && x.mismatches === 0);
      lines.push(
        `  lambda ${endpoint.padEnd(6)} gateway >= ${TARGETS.ratio}x bare node:http: req/s ${f2(q.reqPerSec)}x  ${met(q.reqPerSec >= TARGETS.ratio && clean)}; ` +
          `by CPU per request ${f2(q.cpu)}x  ${met(q.cpu >= TARGETS.ratio)}${clean ? '' : '  (errors, non-2xx or bad bodies: see the table)'}`,
      );
    }
  }
  if (r) {
    lines.push(`  p99 < ${TARGETS.p99Ms} ms at ${opts.rate} req/s (autocannon overallRate): p99 ${r.autocannon.latencyMs.p99} ms  ${met(r.autocannon.latencyMs.p99 < TARGETS.p99Ms && r.autocannon.non2xx === 0)}`);
    lines.push(`  p99 < ${TARGETS.p99Ms} ms at ${opts.rate} req/s (evenly paced):        p99 ${f2(r.paced.serviceMs.p99)} ms  ${met(r.paced.serviceMs.p99 < TARGETS.p99Ms && r.paced.errors === 0)}`);
  }
  if (s)
    lines.push(
      `  ${s.streams} open streams under ${TARGETS.streamsRssMiB} MiB RSS: ${f1(s.open.rssMiB)} MiB  ${met(s.open.open === s.streams && s.open.rssMiB < TARGETS.streamsRssMiB)}; ` +
        `all closed: ${met(s.after.openNow === 0 && s.after.hold.active === 0)}`,
    );
  const others = [
    ...(t ? Object.values(t.summary).map((x) => x.otherCoresMax) : []),
    ...(la ? Object.keys(LAMBDA_LOADS).flatMap((e) => Object.values(la[e].summary).map((x) => x.otherCoresMax)) : []),
    ...(r ? [r.autocannon, ...Object.values(r.controls), r.paced, r.pacedBareLangchain].map((x) => x.cpu.otherCores) : []),
  ];
  if (others.some((x) => x > 0.25)) {
    lines.push('', `Note: other processes used up to ${f2(Math.max(...others))} cores during some runs (columns "other CPU"); those figures are noisy, rerun when the machine is quiet.`);
  }
  return lines.join('\n');
}

// ------------------------------------------------------------------------------------------------
// main

async function main() {
  const results = { machine: machine(), options: opts, startedAt: new Date().toISOString(), head: spawnSync('git', ['log', '-1', '--format=%h %s'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim().slice(0, 100) };
  log(`machine: ${JSON.stringify(results.machine)}`);
  const tmp = mkdtempSync(join(os.tmpdir(), 'runnel-bench-gateway-'));
  if (opts.gatewayCommit) {
    results.build = await buildCommit(opts.gatewayCommit, tmp);
    GATEWAY_MAIN = results.build.gatewayMain;
  } else results.build = build();
  const bundle = await bundleEchoRunnable(tmp);

  // Open files: the stream gateway and the load worker each hold one socket per stream.
  const need = opts.only.has('streams') ? opts.streams + 1024 : 4096;
  const lim = openFilesLimit();
  let nofile;
  if (lim.soft < need) {
    if (lim.hard < need) throw new Error(`ulimit -n is ${lim.soft} (hard ${lim.hard}); ${need} needed for ${opts.streams} streams. Raise the hard limit or lower --streams.`);
    nofile = need;
    log(`open files: soft limit ${lim.soft} < ${need}; raising it to ${need} for the stream gateway and the load worker`);
  }
  results.openFilesLimit = lim;

  startWorker(nofile);
  let ratio;
  if (opts.only.has('throughput') || opts.only.has('rate')) {
    const gateway = await startGateway('gateway');
    const bareLc = await startBare('bare-langchain', 'langchain', bundle);
    const bareEcho = await startBare('bare-echo', 'echo', bundle);
    for (const s of [gateway, bareLc, bareEcho]) await sanityCheck(s);
    log(`servers up: gateway :${gateway.port} (metrics :${gateway.metricsPort}, pid ${gateway.pid}), bare-langchain :${bareLc.port} (pid ${bareLc.pid}), bare-echo :${bareEcho.port} (pid ${bareEcho.pid})`);
    if (opts.only.has('throughput')) {
      results.throughput = await throughputPhase([gateway, bareLc, bareEcho]);
      ratio = results.throughput.ratios.gatewayOverBareLangchain;
    }
    if (opts.only.has('rate')) results.rate = await ratePhase(gateway, bareLc, [bareLc, bareEcho]);
    const m = await scrapeMetrics(gateway.metricsPort);
    results.gatewayMetricsAfterLoad = { rssMiB: procStatus(gateway.pid).rssMiB, inFlight: m.runnel_gateway_in_flight };
    await Promise.all([gateway, bareLc, bareEcho].map((c) => stopChild(c)));
  }
  let lambdaRatio;
  if (opts.only.has('lambda')) {
    const gateways = [Object.assign(await startLambdaGateway('gateway-lambda'), { main: results.build.subject ?? GATEWAY_MAIN })];
    // A comma-separated list gives several gateways (e.g. each commit of a series) in the same rounds.
    for (const [i, spec] of (opts.lambdaAlso ? opts.lambdaAlso.split(',').map((x) => x.trim()).filter(Boolean) : []).entries()) {
      const file = spec.endsWith('.js') && existsSync(resolve(spec)) ? resolve(spec) : undefined;
      const also = file ? { gatewayMain: file, subject: file } : await buildCommit(spec, tmp);
      // The profile phase (--profile) takes the first one.
      results.lambdaAlsoBuild ??= also;
      const name = file ? `gateway-also${i ? i + 1 : ''}` : `gateway@${also.commit.slice(0, 7)}`;
      gateways.push(Object.assign(await startLambdaGateway(name, { main: also.gatewayMain }), { main: also.subject }));
    }
    const bare = await startLambdaBare('bare-lambda');
    log(`lambda servers up: ${gateways.map((g) => `${g.name} :${g.port} (pid ${g.pid})`).join(', ')}, bare-lambda :${bare.port} (pid ${bare.pid})`);
    results.lambda = await lambdaPhase(gateways, bare);
    lambdaRatio = Math.min(results.lambda.invoke.ratios.reqPerSec, results.lambda.stream.ratios.reqPerSec);
    await Promise.all([...gateways, bare].map((c) => stopChild(c)));
  }
  if (opts.only.has('streams')) results.streams = await streamsPhase(nofile);

  // echo: as before (the profile phase in --only, and --profile or below target), but not for a lambda-only run.
  // lambda: after the lambda phase, with --profile, or below target when the profile phase is in --only.
  const below = (x) => x !== undefined && x < TARGETS.ratio;
  const forced = opts.profile === 'always';
  const auto = opts.profile === 'auto';
  if (opts.only.has('profile') && (forced || (auto && below(ratio))) && (opts.only.has('throughput') || !opts.only.has('lambda'))) {
    log(forced ? 'profile: --profile given' : `profile: gateway at ${f2(ratio)}x bare LangChain (< ${TARGETS.ratio}x); profiling`);
    results.profile = await profilePhase(bundle, tmp);
  }
  if (results.lambda && (forced || (auto && opts.only.has('profile') && below(lambdaRatio)))) {
    log(forced ? 'profile (lambda): --profile given' : `profile (lambda): gateway at ${f2(lambdaRatio)}x bare node:http (< ${TARGETS.ratio}x); profiling`);
    results.lambdaProfile = await lambdaProfilePhase(tmp, results.lambdaAlsoBuild);
  }

  await stopChild(worker);
  results.finishedAt = new Date().toISOString();
  results.loadAvgAtEnd = os.loadavg();
  const text = report(results);
  process.stdout.write(`${text}\n`);
  const jsonFile = join(tmp, 'results.json');
  writeFileSync(jsonFile, JSON.stringify(results, null, 2));
  if (opts.json) writeFileSync(resolve(opts.json), JSON.stringify(results, null, 2));
  process.stdout.write(`\nResults JSON: ${jsonFile}${opts.json ? ` and ${resolve(opts.json)}` : ''}${results.profile || results.lambdaProfile ? `; CPU profiles under ${tmp}` : ''}\n`);
}

main().then(
  () => shutdown(0),
  (err) => shutdown(1, `bench failed: ${err?.stack ?? err}`),
);
