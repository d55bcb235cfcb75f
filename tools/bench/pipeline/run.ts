/**
 * Pipeline benchmark, one invocation end to end (run from the repository root, with Node 24):
 *
 *   node_modules/.bin/node tools/dev/run-ts.mjs tools/bench/pipeline/run.ts [options]
 *
 * 1. Builds change-reader, batch-writer and s3-uploader (`nx run-many -t build`; --no-build reuses dist/).
 * 2. Baseline, bare BullMQ: for each --baseline job size (1, 100, 1000 events per job) a fresh redis-server
 *    (AOF on, appendfsync everysec, as RedisServer in libs/testing starts it), a producer process that adds
 *    the same synthetic envelopes as JSON job data with addBulk (chunks of about --chunk-events events),
 *    and a Worker process (concurrency --baseline-concurrency, default = --writer-workers) whose processor
 *    does nothing. events/s = N / (first add .. last 'completed' event).
 * 3. The real pipeline for each --configs entry (jsonl+zstd, jsonl+gzip, parquet+zstd, csv+none): a fresh
 *    redis-server and a fresh s3rver (own process, bucket `lake`), batch-writer and s3-uploader started and
 *    ready first, then change-reader with SOURCE=synthetic, SYNTHETIC_COUNT=N, SYNTHETIC_DOC_BYTES=1024,
 *    BATCH_SIZE. End to end = N / (reader spawn .. reader /ready checkpoint_seq == N), /ready polled every
 *    --poll-ms. Per stage: reader read_seq, writer runnel_events_processed_total, uploader checkpoint_seq
 *    (and the object count); peak RSS of every process from /proc/<pid>/status every 200 ms (and VmHWM);
 *    CPU of every process and of everything else on the machine ("other CPU"); Redis memory and AOF size.
 *    Then the lake is read back with verifyLake (libs/lake): N events, 0 missing, 0 duplicates, no bad
 *    objects; and one stored object is compared event by event with the baseline's generator.
 *    Every process is stopped by pid after each config.
 * 4. A measurement during which other processes used more than --noise-cores is repeated (up to --retries
 *    times) and the quietest attempt is reported.
 * 5. CPU profile (--profile=auto: only for a config below its target; always; never): the config runs once
 *    more with `node --cpu-prof` on all three services; each profile is summarised over the measured window
 *    with tools/bench/gateway/profile-summary.mjs.
 * Prints the machine, the tables and the targets; writes results JSON to a temp directory (and --json=PATH).
 *
 * Options (flag, or env var in brackets; defaults in parentheses):
 *   --count=N                events per run                                  [BENCH_COUNT]            (200000)
 *   --baseline-count=N       events per baseline run                         [BENCH_BASELINE_COUNT]   (= --count)
 *   --baseline=1,100,1000,1000g  events per job in the baseline; a `g` suffix: the producer generates
 *                            every event as the reader does (its SyntheticSource and EJSON envelope) instead of reusing a
 *                            pool of 1,000 ready envelopes (the reference for the targets is `1000`) [BENCH_BASELINE]
 *   --baseline-concurrency=N Worker concurrency in the baseline              [BENCH_BASELINE_CONCURRENCY] (= --writer-workers)
 *   --chunk-events=N         events per addBulk call in the baseline         [BENCH_CHUNK_EVENTS]     (10000)
 *   --configs=a,b            pipeline configs, FORMAT+COMPRESSION            [BENCH_CONFIGS]          (jsonl+zstd,jsonl+gzip,parquet+zstd,csv+none)
 *   --batch-size=N           BATCH_SIZE                                      [BENCH_BATCH_SIZE]       (1000)
 *   --batch-timeout-ms=N     BATCH_TIMEOUT_MS                                [BENCH_BATCH_TIMEOUT_MS] (1000)
 *   --buffer=N               CHANNEL_BUFFER_SIZE                             [BENCH_BUFFER]           (100000, the default)
 *   --writer-workers=N       batch-writer NUM_WORKERS                        [BENCH_WRITER_WORKERS]   (2)
 *   --uploader-workers=N     s3-uploader NUM_WORKERS                         [BENCH_UPLOADER_WORKERS] (4)
 *   --doc-bytes=N            SYNTHETIC_DOC_BYTES                             [BENCH_DOC_BYTES]        (1024)
 *   --collections=a,b,c      SYNTHETIC_COLLECTIONS                           [BENCH_COLLECTIONS]      (orders,customers,products)
 *   --poll-ms=N              reader /ready poll interval                     [BENCH_POLL_MS]          (100)
 *   --timeout=S              give up on one run after S seconds              [BENCH_TIMEOUT]          (600)
 *   --noise-cores=X          "noisy" when other CPU exceeds X cores          [BENCH_NOISE_CORES]      (0.25)
 *   --retries=N              reruns of a noisy measurement                   [BENCH_RETRIES]          (2)
 *   --only=a,b               phases: baseline,pipeline,profile,sweep         [BENCH_ONLY]             (baseline,pipeline,profile)
 *   --sweep-configs=a,b      configs for the sweep phase                     [BENCH_SWEEP_CONFIGS]    (jsonl+zstd,parquet+zstd)
 *   --sweep-count=N          events per sweep run                            [BENCH_SWEEP_COUNT]      (100000)
 *     The sweep varies one setting at a time around the defaults: batch-writer NUM_WORKERS 1,2,4;
 *     s3-uploader NUM_WORKERS 2,4,8; BATCH_SIZE 500,1000,2000,5000.
 *   --profile / --no-profile force / never profile (default: below target)   [BENCH_PROFILE=always|never|auto]
 *   --no-build               reuse dist/apps/<service>/main.js               [BENCH_BUILD=missing]
 *   --dist=DIR               run DIR/<service>/main.js instead of dist/apps (A/B of a saved build; implies --no-build) [BENCH_DIST]
 *   --service-node-args="…"  node flags for all three services               [BENCH_SERVICE_NODE_ARGS] (default: each service's
 *                            NODE_OPTIONS of the service's image in docker-bake.hcl, i.e. as deployed; "none" for none)
 *   --json=PATH              also write the results JSON there               [BENCH_JSON]
 *   --sources=a,b            the reader's source in the pipeline phase: synthetic (SOURCE=synthetic), standin (the
 *                            MongoDB stand-in of libs/testing through the real driver, see below) [BENCH_SOURCES] (synthetic)
 *   --compare-dist=DIR       also run the synthetic source on DIR/<service>/main.js (a saved build): an A/B in the same
 *                            session, alternating with the other variants                 [BENCH_COMPARE_DIST]
 *   --synthetic-events-per-second=N  SYNTHETIC_EVENTS_PER_SECOND: events per second of cluster time. change-reader cuts
 *                            batches after BATCH_TIMEOUT_MS of cluster time, so at the default (1000) a 1 s timeout cuts
 *                            every 1,000 stream events (~333 per collection); a large value leaves the cuts to BATCH_SIZE
 *                            as in a live stream                             [BENCH_SYNTHETIC_EVENTS_PER_SECOND] (1000)
 *   --rounds=N               repeat the pipeline phase N times, the variants in alternating order (A B, B A, …), and
 *                            report each variant's runs, mean and spread                   [BENCH_ROUNDS]           (1)
 *   --standin-writes=W       what the stand-in variants preload: `workload` (tools/mongo/workload.ts, the mixed N events)
 *                            or `inserts` (N inserts, standin-documents.ts)     [BENCH_STANDIN_WRITES] (inserts when
 *                            --sources holds standin-snapshot, else workload; standin-snapshot always inserts)
 *   --snapshot-chunk-sizes=a,b  SNAPSHOT_CHUNK_SIZE: one standin-snapshot variant per size [BENCH_SNAPSHOT_CHUNK_SIZES] (1000)
 *   --snapshot-parallelism=N SNAPSHOT_PARALLELISM                            [BENCH_SNAPSHOT_PARALLELISM] (2)
 *   --profile-sources=a,b    the variants the profile phase runs (by source; standin-snapshot: every chunk size)
 *                            [BENCH_PROFILE_SOURCES] (synthetic; with standin-snapshot in --sources: standin,standin-snapshot.
 *                            Under --profile=auto: synthetic when below its target, the stand-in pair when the snapshot is
 *                            below 1.0× streaming)
 *
 * --sources=standin: the stand-in runs in its own process (its CPU is a column: "mongo"), started empty. A first
 * change-reader (not measured) records the stream's start position and stops; then the workload writer
 * (tools/mongo/workload.ts, through the driver, documents padded to --doc-bytes) writes N change events over
 * --collections of database `shop` (inserts, updates, replaces, deletes), so they are all in the stand-in's oplog
 * before the measured reader starts (SOURCE=mongodb, FULL_DOCUMENT=updateLookup): the figure is reading, not writing.
 * The lake check is the same (N events, 0 missing, 0 duplicates); the generator comparison is skipped.
 *
 * --sources=standin-snapshot (issue 10, the initial snapshot): the stand-in as above, but the N documents
 * (standin-documents.ts: N inserts of about --doc-bytes each over --collections) are inserted BEFORE any reader
 * runs, and the measured reader starts with SNAPSHOT_MODE=initial (SNAPSHOT_CHUNK_SIZE, SNAPSHOT_PARALLELISM): it
 * records its position (checkpoint seq 0 with a token), reads the N documents as N snapshot rows (seqs 1..N), then
 * streams from the position (nothing more comes). End to end is measured as for the others: N / (reader spawn ..
 * /ready checkpoint_seq == N). With --sources=standin,standin-snapshot the standin variant preloads the SAME N
 * inserts (--standin-writes=inserts) and reads them as N insert events (SNAPSHOT_MODE=never), so the two move the
 * same documents through the same config; the report's "Snapshot vs streaming" section gives rows/s over events/s,
 * CPU µs per row vs per event per process, the reader's own snapshot rate (/ready snapshot detail), and the target
 * "snapshot ≥ 1.0× streaming". The lake check adds the operations (N `snapshot` rows, or N `insert` events) and
 * a digest of (collection, document_key, full_document) over all N, which must be equal between the two variants.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CheckpointStore } from '@runnel/checkpoint';
import { type ChangeEnvelope, decodeObject, parseObjectKey, readLakeObjects, verifyLake } from '@runnel/lake';
import { DEFAULT_PREFIX } from '@runnel/queue';
import { freePort, MongoStandIn, parseMetrics, procCpuSeconds, procMemMiB, RedisServer } from '@runnel/testing';
import { describeWorkload, runWorkload } from '../../mongo/workload';
import { insertStandInDocuments } from './standin-documents';
import { deployedNodeOptions } from '../../load/gateway-under-test';
// The benchmark must generate exactly what the reader generates, so it uses the reader's code.
import { toEnvelope, SyntheticSource } from '@runnel/change-reader/tooling';

const ROOT = process.cwd();
const NODE = join(ROOT, 'node_modules/.bin/node');
const SERVICES = ['change-reader', 'batch-writer', 's3-uploader'] as const;
type Service = (typeof SERVICES)[number];
const TARGETS = { 'jsonl+zstd': 0.8, 'parquet+zstd': 0.5 } as Record<string, number>;
const RSS_TARGET_MIB = 256;
const BASELINE_QUEUE = 'bench';
const BUCKET = 'lake';

// ------------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2);
function option(name: string, envName: string, fallback?: string): string | undefined {
  const flag = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (flag) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : 'true';
  return process.env[envName] ?? fallback;
}
function num(name: string, envName: string, fallback: number): number {
  const v = Number(option(name, envName, String(fallback)));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number`);
  return v;
}
const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

function parseOptions() {
  const count = Math.round(num('count', 'BENCH_COUNT', 200_000));
  const sources = list(option('sources', 'BENCH_SOURCES', 'synthetic'));
  const writerWorkers = Math.round(num('writer-workers', 'BENCH_WRITER_WORKERS', 2));
  return {
    count,
    baselineCount: Math.round(num('baseline-count', 'BENCH_BASELINE_COUNT', count)),
    baseline: list(option('baseline', 'BENCH_BASELINE', '1,100,1000,1000g')).map((b) => ({ jobSize: Number(b.replace(/g$/, '')), generate: b.endsWith('g') })),
    baselineConcurrency: Math.round(num('baseline-concurrency', 'BENCH_BASELINE_CONCURRENCY', writerWorkers)),
    chunkEvents: Math.round(num('chunk-events', 'BENCH_CHUNK_EVENTS', 10_000)),
    configs: list(option('configs', 'BENCH_CONFIGS', 'jsonl+zstd,jsonl+gzip,parquet+zstd,csv+none')),
    batchSize: Math.round(num('batch-size', 'BENCH_BATCH_SIZE', 1000)),
    batchTimeoutMs: Math.round(num('batch-timeout-ms', 'BENCH_BATCH_TIMEOUT_MS', 1000)),
    buffer: Math.round(num('buffer', 'BENCH_BUFFER', 100_000)),
    writerWorkers,
    uploaderWorkers: Math.round(num('uploader-workers', 'BENCH_UPLOADER_WORKERS', 4)),
    docBytes: Math.round(num('doc-bytes', 'BENCH_DOC_BYTES', 1024)),
    collections: list(option('collections', 'BENCH_COLLECTIONS', 'orders,customers,products')),
    pollMs: num('poll-ms', 'BENCH_POLL_MS', 100),
    timeoutS: num('timeout', 'BENCH_TIMEOUT', 600),
    noiseCores: num('noise-cores', 'BENCH_NOISE_CORES', 0.25),
    retries: Math.round(Number(option('retries', 'BENCH_RETRIES', '2'))),
    only: new Set(list(option('only', 'BENCH_ONLY', 'baseline,pipeline,profile'))),
    sweepConfigs: list(option('sweep-configs', 'BENCH_SWEEP_CONFIGS', 'jsonl+zstd,parquet+zstd')),
    sweepCount: Math.round(num('sweep-count', 'BENCH_SWEEP_COUNT', 100_000)),
    profile: argv.includes('--profile') ? 'always' : argv.includes('--no-profile') ? 'never' : (process.env.BENCH_PROFILE ?? 'auto'),
    build: argv.includes('--no-build') || option('dist', 'BENCH_DIST') ? 'missing' : (process.env.BENCH_BUILD ?? 'always'),
    dist: option('dist', 'BENCH_DIST', join(ROOT, 'dist/apps'))!,
    serviceNodeArgs: option('service-node-args', 'BENCH_SERVICE_NODE_ARGS'),
    json: option('json', 'BENCH_JSON'),
    sources,
    compareDist: option('compare-dist', 'BENCH_COMPARE_DIST'),
    rounds: Math.round(num('rounds', 'BENCH_ROUNDS', 1)),
    syntheticEventsPerSecond: Math.round(num('synthetic-events-per-second', 'BENCH_SYNTHETIC_EVENTS_PER_SECOND', SYNTHETIC_EVENTS_PER_SECOND)),
    standinWrites: standinWrites(option('standin-writes', 'BENCH_STANDIN_WRITES'), sources),
    snapshotChunkSizes: list(option('snapshot-chunk-sizes', 'BENCH_SNAPSHOT_CHUNK_SIZES', '1000')).map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new Error(`--snapshot-chunk-sizes: ${x} is not an integer in 1..100000 (SNAPSHOT_CHUNK_SIZE)`);
      return n;
    }),
    snapshotParallelism: Math.round(num('snapshot-parallelism', 'BENCH_SNAPSHOT_PARALLELISM', 2)),
    profileSources: list(option('profile-sources', 'BENCH_PROFILE_SOURCES', sources.includes('standin-snapshot') ? 'standin,standin-snapshot' : 'synthetic')),
  };
}

/** --standin-writes: the mixed workload unless the snapshot is compared, which needs the same documents both ways. */
function standinWrites(value: string | undefined, sources: string[]): 'workload' | 'inserts' {
  const v = value ?? (sources.includes('standin-snapshot') ? 'inserts' : 'workload');
  if (v !== 'workload' && v !== 'inserts') throw new Error(`--standin-writes: ${v} is neither workload nor inserts`);
  return v;
}
type Options = ReturnType<typeof parseOptions>;

/** Node flags a service runs with: --service-node-args, or the NODE_OPTIONS its image is built with (docker-bake.hcl, as deployed). */
function serviceNodeArgs(opts: Options, svc: Service): string[] {
  if (opts.serviceNodeArgs !== undefined) return opts.serviceNodeArgs === 'none' ? [] : opts.serviceNodeArgs.split(' ').filter(Boolean);
  return deployedNodeOptions(svc).split(' ').filter(Boolean);
}

// ------------------------------------------------------------------------------------------------
// the synthetic events, generated by change-reader's own SyntheticSource + toEnvelope (the pipeline
// run checks a stored object against this, event by event; the 1000g baseline generates with it)

/** change-reader's default SYNTHETIC_EVENTS_PER_SECOND. */
const SYNTHETIC_EVENTS_PER_SECOND = 1000;
const SYNTHETIC = { database: 'synthetic', startSeconds: 1_767_225_600, eventsPerClusterSecond: SYNTHETIC_EVENTS_PER_SECOND };
const generators = new Map<string, SyntheticSource>();

export function syntheticEnvelope(i: number, collections: string[], documentBytes: number, eventsPerClusterSecond = SYNTHETIC.eventsPerClusterSecond): ChangeEnvelope {
  const key = `${collections.join(',')}|${documentBytes}|${eventsPerClusterSecond}`;
  let source = generators.get(key);
  if (!source) generators.set(key, (source = new SyntheticSource({ ...SYNTHETIC, eventsPerClusterSecond, collections, documentBytes, rate: 0, count: 0, idleIntervalMs: 1000 })));
  return toEnvelope(source.change(i), SYNTHETIC.database, 1, i);
}

// ------------------------------------------------------------------------------------------------
// child roles (this same bundle, started with --role=…): baseline producer and worker, s3rver

function send(msg: Record<string, unknown>): void {
  process.send?.(msg);
}
function nextParentMessage(type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (m?.type !== type) return;
      process.off('message', on);
      resolve(m);
    };
    process.on('message', on);
  });
}

async function producerRole(): Promise<void> {
  const a = JSON.parse(option('args', 'X', '{}')!) as { redisUrl: string; prefix: string; count: number; jobSize: number; generate: boolean; chunkEvents: number; collections: string[]; docBytes: number };
  const connection = new Redis(a.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(BASELINE_QUEUE, { connection, prefix: a.prefix });
  await queue.waitUntilReady();
  // A pool of real envelopes, reused with their seq set: building them is not what is measured (the
  // reader's generation cost is part of the pipeline's figure, so this baseline is the stricter one).
  const pool = Array.from({ length: Math.min(a.count, 1000) }, (_, k) => syntheticEnvelope(k + 1, a.collections, a.docBytes));
  const jobsPerChunk = Math.max(1, Math.floor(a.chunkEvents / a.jobSize));
  send({ type: 'ready', eventJsonBytes: pool.reduce((s, e) => s + JSON.stringify(e).length, 0) / pool.length });
  await nextParentMessage('go');
  send({ type: 'started' });
  let seq = 1;
  while (seq <= a.count) {
    const jobs: { name: string; data: unknown }[] = [];
    for (let j = 0; j < jobsPerChunk && seq <= a.count; j++) {
      const n = Math.min(a.jobSize, a.count - seq + 1);
      const events: ChangeEnvelope[] = [];
      for (let k = 0; k < n; k++, seq++) events.push(a.generate ? syntheticEnvelope(seq, a.collections, a.docBytes) : { ...pool[(seq - 1) % pool.length], seq });
      jobs.push({ name: 'events', data: a.jobSize === 1 ? events[0] : { events } });
    }
    await queue.addBulk(jobs);
  }
  send({ type: 'added' });
  await nextParentMessage('stop');
  await queue.close();
  connection.disconnect();
  process.exit(0);
}

async function workerRole(): Promise<void> {
  const a = JSON.parse(option('args', 'X', '{}')!) as { redisUrl: string; prefix: string; count: number; concurrency: number };
  const connection = new Redis(a.redisUrl, { maxRetriesPerRequest: null });
  let events = 0;
  let jobs = 0;
  let done = false;
  const worker = new Worker(BASELINE_QUEUE, async () => undefined, { connection, prefix: a.prefix, concurrency: a.concurrency });
  worker.on('completed', (job) => {
    const data = job.data as { events?: unknown[] };
    events += Array.isArray(data.events) ? data.events.length : 1;
    jobs++;
    if (!done && events >= a.count) {
      done = true;
      send({ type: 'done', events, jobs });
    }
  });
  await worker.waitUntilReady();
  send({ type: 'ready' });
  await nextParentMessage('stop');
  await worker.close();
  connection.disconnect();
  process.exit(0);
}

async function s3rverRole(): Promise<void> {
  // s3rver in this very process (started with --openssl-legacy-provider), not through libs/testing's
  // S3Server, which would start it in a further child whose CPU the table could not attribute.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as new (o: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  const dir = mkdtempSync(join(os.tmpdir(), 'runnel-bench-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await server.run();
  process.on('SIGTERM', () => {
    void server.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  send({ type: 'ready', port });
}

/** The MongoDB stand-in in its own process, so its CPU is its own column. */
async function mongoRole(): Promise<void> {
  const mongo = await MongoStandIn.start({});
  process.on('SIGTERM', () => void mongo.stop().finally(() => process.exit(0)));
  send({ type: 'ready', uri: mongo.uri });
}

// ------------------------------------------------------------------------------------------------
// processes: every one is tracked by pid and stopped on exit, error or signal

interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  output: string[];
  exited: boolean;
  exitCode: number | string | null;
  exit: Promise<number | string | null>;
}
const children = new Map<number, Child>();
const redisServers = new Set<RedisServer>();

function startChild(name: string, args: string[], { env = {}, ipc = false, nodeArgs = [] as string[] } = {}): Child {
  const proc = spawn(NODE, [...nodeArgs, ...args], { cwd: ROOT, env: childEnv(env), stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  const child: Child = { name, proc, pid: proc.pid, output: [], exited: false, exitCode: null, exit: Promise.resolve(null) };
  const keep = (d: Buffer) => {
    child.output.push(d.toString());
    if (child.output.length > 200) child.output.splice(0, 100);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  child.exit = new Promise((resolve) =>
    proc.on('exit', (code, signal) => {
      child.exited = true;
      child.exitCode = code ?? signal;
      children.delete(child.pid);
      resolve(child.exitCode);
    }),
  );
  children.set(child.pid, child);
  return child;
}

/** A small, explicit environment: nothing from the caller's shell (OTEL_*, NODE_OPTIONS, AWS_*) leaks in. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp', LANG: process.env.LANG ?? 'C.UTF-8', NODE_PATH: join(ROOT, 'node_modules'), ...extra };
}

async function stopChild(child: Child | undefined, graceMs = 10_000): Promise<void> {
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
      /* gone */
    }
  }, graceMs);
  await child.exit;
  clearTimeout(t);
}

function killAllNow(): void {
  for (const c of children.values()) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const r of redisServers) {
    try {
      if (r.pid) process.kill(r.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

async function startRedis(): Promise<RedisServer> {
  const r = await RedisServer.start();
  redisServers.add(r);
  return r;
}
async function stopRedis(r: RedisServer): Promise<void> {
  await r.stop();
  redisServers.delete(r);
}

function tail(child: Child, n = 30): string {
  return child.output.join('').split('\n').slice(-n).join('\n');
}

function nextMessage(child: Child, type: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name}: no '${type}' message within ${timeoutMs} ms:\n${tail(child)}`));
    }, timeoutMs);
    const on = (m: Record<string, unknown>) => {
      if (m?.type !== type) return;
      cleanup();
      resolve(m);
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${child.name} exited (${child.exitCode}) before '${type}':\n${tail(child)}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.proc.off('message', on);
      child.proc.off('exit', onExit);
    };
    child.proc.on('message', on);
    child.proc.on('exit', onExit);
  });
}

// ------------------------------------------------------------------------------------------------
// measuring

const CLK_TCK = 100; // USER_HZ on Linux
const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);
const now = () => performance.now();
const monoUs = () => Number(process.hrtime.bigint() / 1000n);

/** Busy CPU seconds of the whole machine (all cores). */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/**
 * The main thread's scheduler statistics (/proc/<pid>/schedstat, nanoseconds): time on a CPU, and time
 * runnable but waiting for a CPU. For Node that is the event loop: wall − both = idle (waiting on I/O).
 */
function schedStat(pid: number | undefined): { onCpuS: number; waitS: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { onCpuS: run / 1e9, waitS: wait / 1e9 };
  } catch {
    return { onCpuS: Number.NaN, waitS: Number.NaN };
  }
}

/** CPU used by each named process, and by everything else on the machine, over a span. */
class CpuMeter {
  #t0 = now();
  #m0 = machineBusySeconds();
  #p0: Map<string, number>;
  #s0: Map<string, { onCpuS: number; waitS: number }>;
  constructor(private readonly pids: Record<string, number | undefined>) {
    this.#p0 = new Map(Object.entries(pids).map(([k, pid]) => [k, procCpuSeconds(pid)]));
    this.#s0 = new Map(Object.entries(pids).map(([k, pid]) => [k, schedStat(pid)]));
  }
  read(): {
    wallS: number;
    cores: Record<string, number>;
    seconds: Record<string, number>;
    /** Share of wall time each process's main thread spent on a CPU, waiting for one, and idle. */
    mainThread: Record<string, { onCpu: number; waitingForCpu: number; idle: number }>;
    otherCores: number;
    machineCores: number;
  } {
    const wallS = (now() - this.#t0) / 1000;
    const seconds: Record<string, number> = {};
    const mainThread: Record<string, { onCpu: number; waitingForCpu: number; idle: number }> = {};
    for (const [k, pid] of Object.entries(this.pids)) {
      seconds[k] = procCpuSeconds(pid) - this.#p0.get(k)!;
      const s0 = this.#s0.get(k)!;
      const s1 = schedStat(pid);
      const onCpu = (s1.onCpuS - s0.onCpuS) / wallS;
      const waitingForCpu = (s1.waitS - s0.waitS) / wallS;
      mainThread[k] = { onCpu, waitingForCpu, idle: Math.max(0, 1 - onCpu - waitingForCpu) };
    }
    const machine = machineBusySeconds() - this.#m0;
    const mine = Object.values(seconds).filter(Number.isFinite).reduce((a, b) => a + b, 0);
    const cores = Object.fromEntries(Object.entries(seconds).map(([k, s]) => [k, s / wallS]));
    return { wallS, cores, seconds, mainThread, otherCores: Math.max(0, machine - mine) / wallS, machineCores: machine / wallS };
  }
}

async function getJson(port: number, path: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}

/** Prometheus text → sum of every series per metric name (labels dropped). */
async function scrapeSums(port: number): Promise<Record<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  const out: Record<string, number> = {};
  for (const s of parseMetrics(await res.text())) if (!('le' in s.labels)) out[s.name] = (out[s.name] ?? 0) + s.value;
  return out;
}

async function waitReady(port: number, child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exited) throw new Error(`${child.name} exited (${child.exitCode}) while starting:\n${tail(child)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${child.name} not ready within ${timeoutMs} ms:\n${tail(child)}`);
    await sleep(50);
  }
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const mhz = /^cpu MHz\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  let cgroupCpuMax: string | undefined;
  try {
    cgroupCpuMax = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim();
  } catch {
    /* no cgroup v2 limit file */
  }
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || os.availableParallelism());
  const redisVersion = /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1];
  return { nproc, cpuModel: model, cpuMHz: mhz ? Number(mhz) : undefined, memoryGiB: memKb / 1024 / 1024, cgroupCpuMax, kernel: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, redis: redisVersion, loadAvgAtStart: os.loadavg() };
}

function build(opts: Options): void {
  const missing = SERVICES.filter((s) => !existsSync(join(opts.dist, s, 'main.js')));
  if (opts.build !== 'always' && missing.length === 0) {
    log(`build: reusing ${opts.dist}/{change-reader,batch-writer,s3-uploader}/main.js`);
    return;
  }
  if (opts.dist !== join(ROOT, 'dist/apps')) throw new Error(`--dist=${opts.dist}: ${missing.join(', ')} missing`);
  log('build: nx run-many -t build -p change-reader batch-writer s3-uploader ...');
  const t0 = Date.now();
  const r = spawnSync(join(ROOT, 'node_modules/.bin/nx'), ['run-many', '-t', 'build', '-p', ...SERVICES], {
    cwd: ROOT,
    env: { ...process.env, NX_DAEMON: 'false', PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  log(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

// ------------------------------------------------------------------------------------------------
// phase 1: bare BullMQ

interface BaselineResult {
  label: string;
  jobSize: number;
  generated: boolean;
  count: number;
  concurrency: number;
  jobs: number;
  seconds: number;
  eventsPerSec: number;
  addSeconds: number;
  eventJsonBytes: number;
  cpu: ReturnType<CpuMeter['read']>;
  peakRssMiB: Record<string, number>;
}

async function baselineOnce(opts: Options, { jobSize, generate }: { jobSize: number; generate: boolean }): Promise<BaselineResult> {
  const redis = await startRedis();
  const prefix = '{bench}';
  const common = { redisUrl: redis.url, prefix, count: opts.baselineCount };
  const worker = startChild(`bullmq-worker`, [process.argv[1], '--role=bullmq-worker', `--args=${JSON.stringify({ ...common, concurrency: opts.baselineConcurrency })}`], { ipc: true });
  const producer = startChild(`bullmq-producer`, [process.argv[1], '--role=bullmq-producer', `--args=${JSON.stringify({ ...common, jobSize, generate, chunkEvents: opts.chunkEvents, collections: opts.collections, docBytes: opts.docBytes })}`], { ipc: true });
  try {
    await nextMessage(worker, 'ready', 30_000);
    const ready = await nextMessage(producer, 'ready', 30_000);
    const rss: Record<string, number> = {};
    const sampler = setInterval(() => {
      for (const [k, pid] of [['producer', producer.pid], ['worker', worker.pid], ['redis', redis.pid]] as const) rss[k] = Math.max(rss[k] ?? 0, procMemMiB(pid).rssMiB || 0);
    }, 200);
    const done = nextMessage(worker, 'done', opts.timeoutS * 1000);
    const started = nextMessage(producer, 'started', 10_000);
    const added = nextMessage(producer, 'added', opts.timeoutS * 1000);
    const meter = new CpuMeter({ producer: producer.pid, worker: worker.pid, redis: redis.pid, bench: process.pid });
    producer.proc.send({ type: 'go' });
    await started;
    const t0 = now();
    const addedAt = added.then(() => now());
    const result = await done;
    const t1 = now();
    const cpu = meter.read();
    clearInterval(sampler);
    const seconds = (t1 - t0) / 1000;
    return {
      label: `${jobSize}${generate ? ' (generated)' : ''}`,
      jobSize,
      generated: generate,
      count: opts.baselineCount,
      concurrency: opts.baselineConcurrency,
      jobs: Number(result.jobs),
      seconds,
      eventsPerSec: opts.baselineCount / seconds,
      addSeconds: ((await addedAt) - t0) / 1000,
      eventJsonBytes: Number(ready.eventJsonBytes),
      cpu,
      peakRssMiB: rss,
    };
  } finally {
    for (const c of [producer, worker]) if (!c.exited) c.proc.send({ type: 'stop' });
    await Promise.all([stopChild(producer), stopChild(worker)]);
    await stopRedis(redis);
  }
}

// ------------------------------------------------------------------------------------------------
// phase 2: the pipeline

/** What the pipeline phase runs: a source on a build. */
interface Variant {
  source: 'synthetic' | 'standin' | 'standin-snapshot';
  /** DIR of DIR/<service>/main.js. */
  dist: string;
  /** '' for the default (synthetic on --dist), else e.g. `standin` or `synthetic @ /tmp/base`. */
  label: string;
  /** standin-snapshot: SNAPSHOT_CHUNK_SIZE. */
  snapshotChunkSize?: number;
}
const SOURCES = ['synthetic', 'standin', 'standin-snapshot'] as const;

interface PipelineResult {
  config: string;
  /** config and variant, as the tables show it. */
  name: string;
  variant: Variant;
  count: number;
  settings: Record<string, string | number>;
  seconds: number;
  eventsPerSec: number;
  firstReadS: number;
  stages: Record<string, { firstS: number; doneS: number; eventsPerSec: number }>;
  readerUnthrottledEventsPerSec: number;
  readerThrottledAtS: number | null;
  maxInFlight: number;
  maxBatchesWaiting: number;
  maxObjectsWaiting: number;
  objects: number;
  meanBatchEvents: number;
  meanObjectBytes: number;
  uploadBytes: number;
  cpu: ReturnType<CpuMeter['read']>;
  cpuUsPerEvent: Record<string, number>;
  peakRssMiB: Record<string, number>;
  hwmMiB: Record<string, number>;
  /** Peaks over the run from each service's /metrics (prom-client process metrics), MiB. */
  heapPeakMiB: Record<string, { heapTotal: number; heapUsed: number; external: number }>;
  redisInfo: Record<string, number | string>;
  lake: { objects: number; events: number; missing: number; duplicates: number; badObjects: number; maxSeq: number; collections: Record<string, number>; exact: boolean };
  eventsMatchGenerator: { object: string; events: number; equal: boolean; firstDifference?: number } | null;
  /** The stand-in variants: what was written into the stand-in before the measured reader started. */
  preload?: { writes: 'workload' | 'inserts'; description: string; perSecond: number };
  /** The stand-in variants: the lake's events by operation, and a digest of the documents they carry. */
  lakeDocuments?: LakeDocuments;
  /** standin-snapshot: the reader's snapshot as its /ready showed it (polled every --poll-ms). */
  snapshot?: SnapshotRun;
  profiles?: Record<string, unknown>;
}

interface SnapshotRun {
  chunkSize: number;
  parallelism: number;
  /** Rows /ready counted when the phase left `reading` (or at the end). */
  rows: number;
  /** Seconds after the reader was spawned: first row emitted, last row emitted (phase no longer `reading`). */
  firstRowS: number;
  rowsDoneS: number;
  /** The reader's own snapshot rate: rows between those two samples / seconds between them. */
  rowsPerSec: number;
  phaseAtEnd: string | null;
  collections: Record<string, { rows: number; chunks: number; rowsPerSec: number | null }>;
}

interface ReadySnapshot {
  phase: string;
  rows: number;
  collections: Record<string, { state: string; rows: number; chunks: number; rows_per_s: number | null }>;
}

interface Sample {
  t: number;
  read: number;
  ckpt: number;
  inFlight: number;
  batchesWaiting: number;
}

function splitConfig(config: string): { format: string; compression: string } {
  const [format, compression = 'none'] = config.split('+');
  return { format, compression };
}

/**
 * Polls the stream's checkpoint until it holds a resume position (the reader has opened its change
 * stream and saved where it starts). /ready's checkpoint_seq is 0 earlier, as soon as the generation exists.
 */
async function waitForPosition(redisUrl: string, stream: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const store = new CheckpointStore(connection, { prefix: DEFAULT_PREFIX, ttlMs: 0 });
  try {
    for (;;) {
      if (child.exited) throw new Error(`${child.name} exited (${child.exitCode}) while starting:\n${tail(child)}`);
      if ((await store.load(stream).catch(() => undefined))?.token !== undefined) return;
      if (Date.now() > deadline) throw new Error(`${child.name} recorded no start position within ${timeoutMs} ms:\n${tail(child)}`);
      await sleep(100);
    }
  } finally {
    connection.disconnect();
  }
}

const STANDIN_DATABASE = 'shop';

async function pipelineOnce(opts: Options, config: string, { profileDir, variant = { source: 'synthetic', dist: opts.dist, label: '' } }: { profileDir?: string; variant?: Variant } = {}): Promise<PipelineResult> {
  const { format, compression } = splitConfig(config);
  const N = opts.count;
  const dist = variant.dist;
  const redis = await startRedis();
  // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only has in its legacy provider:
  // without it every listing longer than one page (1,000 keys) fails with InternalError.
  const s3 = startChild('s3rver', [process.argv[1], '--role=s3rver'], { ipc: true, nodeArgs: ['--openssl-legacy-provider'] });
  const mongo = variant.source !== 'synthetic' ? startChild('mongo', [process.argv[1], '--role=mongo'], { ipc: true }) : undefined;
  const started: Partial<Record<Service, Child>> = {};
  const ports = { reader: await freePort(), writer: await freePort(), uploader: await freePort() };
  const s3Prefix = `bench/${config.replace('+', '-')}`;
  const nodeArgs = (svc: Service) => [...serviceNodeArgs(opts, svc), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, svc)}`] : [])];
  const common = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT: '10' };
  let s3Client: S3Client | undefined;
  try {
    const s3Port = Number((await nextMessage(s3, 'ready', 30_000)).port);
    const endpoint = `http://127.0.0.1:${s3Port}`;
    started['batch-writer'] = startChild('batch-writer', [join(dist, 'batch-writer/main.js')], {
      nodeArgs: nodeArgs('batch-writer'),
      env: { ...common, METRICS_PORT: String(ports.writer), FORMAT: format, COMPRESSION: compression, S3_PREFIX: s3Prefix, NUM_WORKERS: String(opts.writerWorkers) },
    });
    started['s3-uploader'] = startChild('s3-uploader', [join(dist, 's3-uploader/main.js')], {
      nodeArgs: nodeArgs('s3-uploader'),
      env: {
        ...common,
        METRICS_PORT: String(ports.uploader),
        NUM_WORKERS: String(opts.uploaderWorkers),
        S3_BUCKET: BUCKET,
        AWS_ENDPOINT_URL_S3: endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        S3_CONDITIONAL_WRITES: 'false',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      },
    });
    await Promise.all([waitReady(ports.writer, started['batch-writer']), waitReady(ports.uploader, started['s3-uploader'])]);

    // The reader's source. The stand-in: a first reader records where the stream starts and stops,
    // then N change events are written, so the measured reader finds them all in the oplog.
    let sourceEnv: Record<string, string> = {
      SOURCE: 'synthetic',
      SYNTHETIC_COUNT: String(N),
      SYNTHETIC_DOC_BYTES: String(opts.docBytes),
      SYNTHETIC_COLLECTIONS: opts.collections.join(','),
      SYNTHETIC_RATE: '0',
      SYNTHETIC_EVENTS_PER_SECOND: String(opts.syntheticEventsPerSecond),
    };
    let preload: PipelineResult['preload'];
    const what = `${config} ${variant.label || variant.source}`;
    if (mongo) {
      const uri = String((await nextMessage(mongo, 'ready', 30_000)).uri);
      const mongodb = { SOURCE: 'mongodb', MONGODB_URI: uri, MONGODB_DATABASE: STANDIN_DATABASE, FULL_DOCUMENT: 'updateLookup' };
      if (variant.source === 'standin-snapshot') {
        // The documents first, then the reader: a new stream (no checkpoint) snapshots them all, then
        // streams from the position it took before reading (where no event follows).
        preload = await preloadInserts(opts, uri, what);
        sourceEnv = { ...mongodb, SNAPSHOT_MODE: 'initial', SNAPSHOT_CHUNK_SIZE: String(variant.snapshotChunkSize ?? 1000), SNAPSHOT_PARALLELISM: String(opts.snapshotParallelism) };
      } else {
        sourceEnv = { ...mongodb, SNAPSHOT_MODE: 'never' };
        const positioning = startChild('change-reader (start position)', [join(dist, 'change-reader/main.js')], { env: { ...common, METRICS_PORT: String(ports.reader), ...sourceEnv } });
        try {
          await waitForPosition(redis.url, STANDIN_DATABASE, positioning);
        } finally {
          await stopChild(positioning);
        }
        if (opts.standinWrites === 'inserts') preload = await preloadInserts(opts, uri, what);
        else {
          const t0 = now();
          const w = await runWorkload({ uri, database: STANDIN_DATABASE, collections: opts.collections, count: N, rate: 0, seed: 1, documentBytes: opts.docBytes });
          preload = { writes: 'workload', description: describeWorkload(w), perSecond: w.events / ((now() - t0) / 1000) };
          log(`${what}: preloaded ${preload.description} (${f0(preload.perSecond)} events/s through the driver)`);
          if (w.events !== N) throw new Error(`the workload wrote ${w.events} events, not ${N}`);
        }
      }
    }

    const settings = {
      FORMAT: format,
      COMPRESSION: compression,
      SOURCE: variant.source,
      SYNTHETIC_COUNT: N,
      SYNTHETIC_DOC_BYTES: opts.docBytes,
      SYNTHETIC_COLLECTIONS: opts.collections.join(','),
      BATCH_SIZE: opts.batchSize,
      BATCH_TIMEOUT_MS: opts.batchTimeoutMs,
      CHANNEL_BUFFER_SIZE: opts.buffer,
      ...(mongo ? { 'stand-in writes': preload?.writes ?? '', SNAPSHOT_MODE: sourceEnv.SNAPSHOT_MODE } : {}),
      ...(variant.source === 'standin-snapshot' ? { SNAPSHOT_CHUNK_SIZE: Number(sourceEnv.SNAPSHOT_CHUNK_SIZE), SNAPSHOT_PARALLELISM: opts.snapshotParallelism } : {}),
      'batch-writer NUM_WORKERS': opts.writerWorkers,
      's3-uploader NUM_WORKERS': opts.uploaderWorkers,
      ...Object.fromEntries(SERVICES.map((s) => [`${s} node flags`, serviceNodeArgs(opts, s).join(' ')])),
    };
    // The clock starts when the reader is spawned: its start-up is part of the figure.
    const tStart = now();
    const monoStartUs = monoUs();
    const pidsBefore: Record<string, number | undefined> = { 'batch-writer': started['batch-writer'].pid, 's3-uploader': started['s3-uploader'].pid, redis: redis.pid, s3rver: s3.pid, ...(mongo ? { mongo: mongo.pid } : {}), bench: process.pid };
    const meterBase = { ...pidsBefore };
    const reader = (started['change-reader'] = startChild('change-reader', [join(dist, 'change-reader/main.js')], {
      nodeArgs: nodeArgs('change-reader'),
      env: {
        ...common,
        METRICS_PORT: String(ports.reader),
        ...sourceEnv,
        BATCH_SIZE: String(opts.batchSize),
        BATCH_TIMEOUT_MS: String(opts.batchTimeoutMs),
        CHANNEL_BUFFER_SIZE: String(opts.buffer),
      },
    }));
    const meter = new CpuMeter({ 'change-reader': reader.pid, ...meterBase });
    const pids: Record<string, number | undefined> = { 'change-reader': reader.pid, ...pidsBefore };
    delete pids.bench;

    const rss: Record<string, number> = {};
    const sampleRss = () => {
      for (const [k, pid] of Object.entries(pids)) rss[k] = Math.max(rss[k] ?? 0, procMemMiB(pid).rssMiB || 0);
    };
    const rssTimer = setInterval(sampleRss, 200);
    const samples: Sample[] = [];
    const writerSeries: { t: number; events: number }[] = [];
    const heapPeakMiB: PipelineResult['heapPeakMiB'] = Object.fromEntries(SERVICES.map((s) => [s, { heapTotal: 0, heapUsed: 0, external: 0 }]));
    const noteHeap = (svc: Service, m: Record<string, number> | undefined) => {
      if (!m) return;
      const h = heapPeakMiB[svc];
      h.heapTotal = Math.max(h.heapTotal, (m.nodejs_heap_size_total_bytes ?? 0) / 2 ** 20);
      h.heapUsed = Math.max(h.heapUsed, (m.nodejs_heap_size_used_bytes ?? 0) / 2 ** 20);
      h.external = Math.max(h.external, (m.nodejs_external_memory_bytes ?? 0) / 2 ** 20);
    };
    const uploaderSeries: { t: number; uploads: number; objectsWaiting: number }[] = [];
    let finished = false;

    const metricsLoop = (async () => {
      while (!finished) {
        const t = now() - tStart;
        const [w, u, uReady, r] = await Promise.all([
          scrapeSums(ports.writer).catch(() => undefined),
          scrapeSums(ports.uploader).catch(() => undefined),
          getJson(ports.uploader, '/ready').catch(() => undefined) as Promise<{ checks?: { queues?: { detail?: { objects?: { waiting?: number } } } } } | undefined>,
          scrapeSums(ports.reader).catch(() => undefined),
        ]);
        noteHeap('batch-writer', w);
        noteHeap('s3-uploader', u);
        noteHeap('change-reader', r);
        if (w) writerSeries.push({ t, events: w.runnel_events_processed_total ?? 0 });
        if (u) uploaderSeries.push({ t, uploads: u.runnel_upload_duration_seconds_count ?? 0, objectsWaiting: uReady?.checks?.queues?.detail?.objects?.waiting ?? 0 });
        await sleep(500);
      }
    })();

    const deadline = tStart + opts.timeoutS * 1000;
    let tDone = Number.NaN;
    const snapshotSamples: { t: number; phase: string; rows: number }[] = [];
    let lastSnapshot: ReadySnapshot | undefined;
    for (;;) {
      for (const c of Object.values(started)) if (c.exited) throw new Error(`${c.name} exited (${c.exitCode}) during the run:\n${tail(c)}`);
      if (now() > deadline) throw new Error(`${config}: checkpoint did not reach ${N} within ${opts.timeoutS} s (last: ${JSON.stringify(samples.at(-1))})\n--- change-reader output:\n${tail(reader)}`);
      const body = (await getJson(ports.reader, '/ready').catch(() => undefined)) as
        | { checks?: { reader?: { detail?: { read_seq?: number; checkpoint_seq?: number | null; in_flight_events?: number; snapshot?: ReadySnapshot | null } }; queues?: { detail?: { batches?: { waiting?: number } } } } }
        | undefined;
      const d = body?.checks?.reader?.detail;
      if (d?.snapshot) {
        lastSnapshot = d.snapshot;
        snapshotSamples.push({ t: now() - tStart, phase: d.snapshot.phase, rows: d.snapshot.rows });
      }
      if (d) {
        const s: Sample = { t: now() - tStart, read: d.read_seq ?? 0, ckpt: d.checkpoint_seq ?? 0, inFlight: d.in_flight_events ?? 0, batchesWaiting: body?.checks?.queues?.detail?.batches?.waiting ?? 0 };
        samples.push(s);
        if (s.ckpt >= N) {
          tDone = s.t;
          break;
        }
      }
      await sleep(opts.pollMs);
    }
    const cpu = meter.read();
    const monoDoneUs = monoUs();
    finished = true;
    clearInterval(rssTimer);
    sampleRss();
    await metricsLoop;
    const hwm = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procMemMiB(pid).hwmMiB]));
    const [wFinal, uFinal] = await Promise.all([scrapeSums(ports.writer), scrapeSums(ports.uploader)]);
    writerSeries.push({ t: now() - tStart, events: wFinal.runnel_events_processed_total ?? 0 });
    const redisInfo = await redisFacts(redis.url);

    // stop the services (SIGTERM: a profiled process writes its profile on exit)
    await Promise.all(SERVICES.map((s) => stopChild(started[s])));

    s3Client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const [report] = await verifyLake(s3Client, BUCKET, `${s3Prefix}/`);
    const lake = report
      ? { objects: report.objects, events: report.events, missing: report.missing, duplicates: report.duplicates, badObjects: report.badObjects.length, maxSeq: report.maxSeq, collections: report.collections, exact: report.events === N && report.maxSeq === N && report.missing === 0 && report.duplicates === 0 && report.badObjects.length === 0 }
      : { objects: 0, events: 0, missing: N, duplicates: 0, badObjects: 0, maxSeq: 0, collections: {}, exact: false };
    // The stand-in's inserts: every one of the N is an insert event, or a snapshot row.
    const lakeDocuments = mongo ? await lakeDocumentsOf(s3Client, s3Prefix) : undefined;
    const expectedOperation = variant.source === 'standin-snapshot' ? 'snapshot' : preload?.writes === 'inserts' ? 'insert' : undefined;
    if (lakeDocuments && expectedOperation && lakeDocuments.operations[expectedOperation] !== N) {
      lake.exact = false;
      log(`${what}: the lake holds ${JSON.stringify(lakeDocuments.operations)} by operation, not ${N} ${expectedOperation}`);
    }
    // Only the build under test writes what this bench's generator writes (a saved build may predate the envelope).
    const eventsMatchGenerator = variant.source === 'synthetic' && variant.dist === opts.dist ? await compareWithGenerator(s3Client, s3Prefix, opts) : null;

    const seconds = tDone / 1000;
    const readS = stageOf(samples.map((s) => ({ t: s.t, v: s.read })), N);
    const writeS = stageOf(writerSeries.map((s) => ({ t: s.t, v: s.events })), N);
    const ckptS = stageOf(samples.map((s) => ({ t: s.t, v: s.ckpt })), N);
    // The reader runs free until CHANNEL_BUFFER_SIZE events are in flight, then at the pace of the checkpoint.
    const throttled = samples.find((s) => s.inFlight >= opts.buffer * 0.95);
    const firstRead = samples.find((s) => s.read > 0);
    const unthrottledEnd = throttled ?? samples.find((s) => s.read >= N) ?? samples.at(-1)!;
    const uploadsTotal = uFinal.runnel_upload_duration_seconds_count ?? 0;
    const cpuUsPerEvent = Object.fromEntries(Object.entries(cpu.seconds).map(([k, s]) => [k, (s * 1e6) / N]));
    return {
      config,
      name: variant.label ? `${config} ${variant.label}` : config,
      variant,
      count: N,
      settings,
      seconds,
      eventsPerSec: N / seconds,
      firstReadS: (firstRead?.t ?? Number.NaN) / 1000,
      stages: { read: readS, write: writeS, checkpoint: ckptS },
      readerUnthrottledEventsPerSec: firstRead ? (unthrottledEnd.read - firstRead.read) / ((unthrottledEnd.t - firstRead.t) / 1000) : Number.NaN,
      readerThrottledAtS: throttled ? throttled.t / 1000 : null,
      maxInFlight: Math.max(...samples.map((s) => s.inFlight)),
      maxBatchesWaiting: Math.max(...samples.map((s) => s.batchesWaiting)),
      maxObjectsWaiting: Math.max(0, ...uploaderSeries.map((s) => s.objectsWaiting)),
      objects: uploadsTotal,
      meanBatchEvents: (wFinal.runnel_batch_size_sum ?? 0) / (wFinal.runnel_batch_size_count || 1),
      meanObjectBytes: (wFinal.runnel_batch_bytes_sum ?? 0) / (wFinal.runnel_batch_bytes_count || 1),
      uploadBytes: uFinal.runnel_upload_bytes_total ?? 0,
      cpu,
      cpuUsPerEvent,
      peakRssMiB: rss,
      hwmMiB: hwm,
      heapPeakMiB,
      redisInfo,
      lake,
      eventsMatchGenerator,
      ...(preload ? { preload } : {}),
      ...(lakeDocuments ? { lakeDocuments } : {}),
      ...(variant.source === 'standin-snapshot' ? { snapshot: snapshotRun(snapshotSamples, lastSnapshot, Number(sourceEnv.SNAPSHOT_CHUNK_SIZE), opts.snapshotParallelism) } : {}),
      ...(profileDir ? { profiles: { dir: profileDir, monoStartUs, monoDoneUs } } : {}),
    };
  } catch (err) {
    throw new Error(`${config}: ${(err as Error).stack}\n--- s3rver output:\n${tail(s3)}`);
  } finally {
    s3Client?.destroy();
    await Promise.all(SERVICES.map((s) => stopChild(started[s])));
    await stopChild(s3);
    await stopChild(mongo);
    await stopRedis(redis);
  }
}

async function preloadInserts(opts: Options, uri: string, what: string): Promise<NonNullable<PipelineResult['preload']>> {
  const r = await insertStandInDocuments({ uri, database: STANDIN_DATABASE, collections: opts.collections, count: opts.count, documentBytes: opts.docBytes, seed: 1 });
  if (r.documents !== opts.count) throw new Error(`${what}: inserted ${r.documents} documents, not ${opts.count}`);
  const description = `${r.documents} inserts into ${STANDIN_DATABASE}.{${opts.collections.join(',')}} (${Object.values(r.perCollection).join(' / ')}), ${f0(r.meanBsonBytes)} B BSON each on average, in ${f1(r.seconds)} s`;
  log(`${what}: preloaded ${description} (${f0(r.documents / r.seconds)} documents/s through the driver)`);
  return { writes: 'inserts', description, perSecond: r.documents / r.seconds };
}

interface LakeDocuments {
  operations: Record<string, number>;
  /** Events with a full_document. */
  documents: number;
  /** Order-free: the sum mod 2^64 of sha256(collection, document_key, full_document) over those events. */
  digest: string;
}

/** The lake's events by operation, and a digest of the documents they carry (equal for the same documents, whatever the order and batching). */
async function lakeDocumentsOf(s3: S3Client, prefix: string): Promise<LakeDocuments> {
  const operations: Record<string, number> = {};
  let documents = 0;
  let sum = 0n;
  for await (const o of readLakeObjects(s3, BUCKET, `${prefix}/`)) {
    for (const e of o.events) {
      operations[e.operation] = (operations[e.operation] ?? 0) + 1;
      if (e.full_document === null) continue;
      documents++;
      sum = (sum + createHash('sha256').update(`${e.collection}\n${e.document_key}\n${e.full_document}`).digest().readBigUInt64BE(0)) & 0xffff_ffff_ffff_ffffn;
    }
  }
  return { operations, documents, digest: sum.toString(16).padStart(16, '0') };
}

/** The reader's own snapshot rate, from /ready's snapshot detail: first row emitted → phase past `reading`. */
function snapshotRun(samples: { t: number; phase: string; rows: number }[], last: ReadySnapshot | undefined, chunkSize: number, parallelism: number): SnapshotRun {
  const first = samples.find((s) => s.rows > 0);
  const done = samples.find((s) => s.phase !== 'reading') ?? samples.at(-1);
  const rowsPerSec = first && done && done.t > first.t ? (done.rows - first.rows) / ((done.t - first.t) / 1000) : Number.NaN;
  return {
    chunkSize,
    parallelism,
    rows: done?.rows ?? 0,
    firstRowS: (first?.t ?? Number.NaN) / 1000,
    rowsDoneS: (done?.t ?? Number.NaN) / 1000,
    rowsPerSec,
    phaseAtEnd: last?.phase ?? null,
    collections: Object.fromEntries(Object.entries(last?.collections ?? {}).map(([ns, c]) => [ns, { rows: c.rows, chunks: c.chunks, rowsPerSec: c.rows_per_s }])),
  };
}

/** When a series first moved and when it reached n (times in seconds after the reader started), and its rate in between. */
function stageOf(series: { t: number; v: number }[], n: number): { firstS: number; doneS: number; eventsPerSec: number } {
  const first = series.find((s) => s.v > 0);
  const done = series.find((s) => s.v >= n);
  if (!first || !done || done.t <= first.t) return { firstS: (first?.t ?? Number.NaN) / 1000, doneS: (done?.t ?? Number.NaN) / 1000, eventsPerSec: Number.NaN };
  return { firstS: first.t / 1000, doneS: done.t / 1000, eventsPerSec: (done.v - first.v) / ((done.t - first.t) / 1000) };
}

async function redisFacts(url: string): Promise<Record<string, number | string>> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = await r.info();
    const field = (k: string) => new RegExp(`^${k}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
    const batches = new Queue('batches', { connection: r, prefix: '{runnel}' });
    const objects = new Queue('objects', { connection: r, prefix: '{runnel}' });
    const [b, o] = await Promise.all([batches.getJobCounts('completed', 'failed', 'waiting'), objects.getJobCounts('completed', 'failed', 'waiting')]);
    await Promise.all([batches.close(), objects.close()]);
    return {
      usedMemoryMiB: Number(field('used_memory')) / 2 ** 20,
      usedMemoryPeakMiB: Number(field('used_memory_peak')) / 2 ** 20,
      aofSizeMiB: Number(field('aof_current_size')) / 2 ** 20,
      keys: Number(/keys=(\d+)/.exec(field('db0'))?.[1] ?? 0),
      batchesCompletedKept: b.completed ?? 0,
      batchesFailed: b.failed ?? 0,
      objectsCompletedKept: o.completed ?? 0,
      objectsFailed: o.failed ?? 0,
    };
  } finally {
    r.disconnect();
  }
}

/** Reads one stored object back and compares every event with the baseline's generator. */
async function compareWithGenerator(s3: S3Client, prefix: string, opts: Options): Promise<PipelineResult['eventsMatchGenerator']> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/` }));
  const key = page.Contents?.map((c) => c.Key!).find((k) => parseObjectKey(k));
  if (!key) return null;
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const events = decodeObject(Buffer.from(await res.Body!.transformToByteArray()), parseObjectKey(key)!.extension);
  // The generation is the reader's (an epoch second when the stream started), not the generator's.
  const bad = events.find((e) => !isDeepStrictEqual(e, { ...syntheticEnvelope(e.seq, opts.collections, opts.docBytes, opts.syntheticEventsPerSecond), generation: e.generation }));
  return { object: key, events: events.length, equal: bad === undefined, ...(bad ? { firstDifference: bad.seq } : {}) };
}

// ------------------------------------------------------------------------------------------------
// noisy reruns, profiles

async function quietest<T extends { cpu: { otherCores: number } }>(opts: Options, what: string, run: () => Promise<T>): Promise<{ best: T; attempts: T[] }> {
  const attempts: T[] = [];
  for (let i = 0; i <= opts.retries; i++) {
    const r = await run();
    attempts.push(r);
    if (r.cpu.otherCores <= opts.noiseCores) break;
    if (i < opts.retries) log(`${what}: other processes used ${r.cpu.otherCores.toFixed(2)} cores (> ${opts.noiseCores}); running again`);
  }
  const best = attempts.reduce((a, b) => (b.cpu.otherCores < a.cpu.otherCores ? b : a));
  return { best, attempts };
}

function summariseProfiles(result: PipelineResult): Record<string, unknown> {
  const p = result.profiles as { dir: string; monoStartUs: number; monoDoneUs: number };
  const out: Record<string, unknown> = {};
  for (const svc of SERVICES) {
    const dir = join(p.dir, svc);
    const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    if (!file) {
      out[svc] = { error: `no .cpuprofile in ${dir}` };
      continue;
    }
    const path = join(dir, file);
    const { startTime } = JSON.parse(readFileSync(path, 'utf8')) as { startTime: number };
    // V8 profile timestamps and process.hrtime are both CLOCK_MONOTONIC microseconds.
    const fromMs = Math.max(0, (p.monoStartUs - startTime) / 1000);
    const toMs = (p.monoDoneUs - startTime) / 1000;
    const r = spawnSync(NODE, [join(ROOT, 'tools/bench/gateway/profile-summary.mjs'), path, '--json', '--top=20', `--from-ms=${fromMs.toFixed(0)}`, `--to-ms=${toMs.toFixed(0)}`], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (r.status !== 0) {
      out[svc] = { error: r.stderr };
      continue;
    }
    const text = spawnSync(NODE, [join(ROOT, 'tools/bench/gateway/profile-summary.mjs'), path, '--top=20', `--from-ms=${fromMs.toFixed(0)}`, `--to-ms=${toMs.toFixed(0)}`], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).stdout;
    out[svc] = { file: path, summary: JSON.parse(r.stdout), text };
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// sweep: one setting at a time around the defaults

async function sweepPhase(opts: Options): Promise<{ rows: Record<string, unknown>[]; text: string }> {
  const variants: { name: string; o: Partial<Options> }[] = [
    ...[1, 2, 4].map((n) => ({ name: `batch-writer NUM_WORKERS=${n}`, o: { writerWorkers: n } })),
    ...[2, 4, 8].map((n) => ({ name: `s3-uploader NUM_WORKERS=${n}`, o: { uploaderWorkers: n } })),
    ...[500, 1000, 2000, 5000].map((n) => ({ name: `BATCH_SIZE=${n}`, o: { batchSize: n } })),
  ];
  const rows: Record<string, unknown>[] = [];
  for (const config of opts.sweepConfigs) {
    for (const v of variants) {
      const o: Options = { ...opts, count: opts.sweepCount, ...v.o };
      log(`sweep: ${config}, ${v.name}, ${o.count} events ...`);
      const { best } = await quietest(opts, `sweep ${config} ${v.name}`, () => pipelineOnce(o, config));
      const row = {
        config,
        variant: v.name,
        settings: { writerWorkers: o.writerWorkers, uploaderWorkers: o.uploaderWorkers, batchSize: o.batchSize },
        eventsPerSec: best.eventsPerSec,
        readerOnCpu: best.cpu.mainThread['change-reader']?.onCpu,
        readerWaitingForCpu: best.cpu.mainThread['change-reader']?.waitingForCpu,
        readerIdle: best.cpu.mainThread['change-reader']?.idle,
        machineCores: best.cpu.machineCores,
        otherCores: best.cpu.otherCores,
        peakRssMiB: Object.fromEntries(SERVICES.map((s) => [s, Math.max(best.peakRssMiB[s], best.hwmMiB[s])])),
        lakeExact: best.lake.exact,
      };
      rows.push(row);
      log(`sweep: ${config}, ${v.name}: ${f0(row.eventsPerSec)} events/s, other CPU ${f2(row.otherCores)}`);
    }
  }
  const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${Math.round(x * 100)}%`);
  const t: (string | number)[][] = [['config', 'setting', 'events/s', 'reader main thread on CPU / waiting / idle', 'machine cores', 'other CPU', 'peak RSS reader/writer/uploader MiB', 'lake exact']];
  for (const r of rows) {
    const rss = r.peakRssMiB as Record<string, number>;
    t.push([r.config as string, r.variant as string, f0(r.eventsPerSec as number), `${pct(r.readerOnCpu as number)} / ${pct(r.readerWaitingForCpu as number)} / ${pct(r.readerIdle as number)}`, f2(r.machineCores as number), f2(r.otherCores as number), SERVICES.map((s) => f0(rss[s])).join(' / '), r.lakeExact ? 'yes' : 'NO']);
  }
  return { rows, text: ['', `Sweep (${opts.sweepCount.toLocaleString('en-US')} events per run; one setting changed at a time from the defaults above):`, table(t)].join('\n') };
}

// ------------------------------------------------------------------------------------------------
// report

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/**
 * One row per variant and config over its rounds: events/s of each run, mean and spread, and mean CPU µs
 * per event per process (the stand-in's own CPU as "mongo"). Undefined when there is one variant and one round.
 */
function sourceSummary(pipeline: PipelineResult[]): string | undefined {
  const groups = new Map<string, PipelineResult[]>();
  for (const p of pipeline) groups.set(p.name, [...(groups.get(p.name) ?? []), p]);
  if (groups.size === new Set(pipeline.map((p) => p.config)).size && [...groups.values()].every((g) => g.length === 1)) return undefined;
  const procs = ['change-reader', 'batch-writer', 's3-uploader', 'redis', 's3rver', 'mongo'];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows: (string | number)[][] = [['variant', 'runs: events/s', 'mean events/s', 'spread', ...procs.map((p) => `µs/event ${p}`), 'µs/event all', 'other CPU (max)', 'lake exact']];
  for (const [name, runs] of groups) {
    const rates = runs.map((r) => r.eventsPerSec);
    const us = (k: string) => (runs.every((r) => r.cpuUsPerEvent[k] !== undefined) ? mean(runs.map((r) => r.cpuUsPerEvent[k])) : Number.NaN);
    const all = mean(runs.map((r) => procs.reduce((sum, k) => sum + (r.cpuUsPerEvent[k] ?? 0), 0)));
    rows.push([
      name,
      rates.map(f0).join(' / '),
      f0(mean(rates)),
      rates.length > 1 ? `${f0(((Math.max(...rates) - Math.min(...rates)) / mean(rates)) * 100)}%` : '–',
      ...procs.map((k) => f1(us(k))),
      f1(all),
      f2(Math.max(...runs.map((r) => r.cpu.otherCores))),
      runs.every((r) => r.lake.exact) ? 'yes' : 'NO',
    ]);
  }
  return ['By variant (each run of the pipeline phase; spread = (max − min) / mean; µs/event = CPU seconds of the process over the run / N):', table(rows)].join('\n');
}

const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const PROCS = ['change-reader', 'batch-writer', 's3-uploader', 'redis', 's3rver', 'mongo'];

/** Per config, the snapshot variants against the stand-in streaming the same documents (means over rounds). */
function snapshotRatios(pipeline: PipelineResult[]): { config: string; label: string; snapshot: PipelineResult[]; streaming: PipelineResult[]; ratio: number; cpuRatio: number }[] {
  const out: { config: string; label: string; snapshot: PipelineResult[]; streaming: PipelineResult[]; ratio: number; cpuRatio: number }[] = [];
  const allUs = (r: PipelineResult) => PROCS.reduce((sum, k) => sum + (r.cpuUsPerEvent[k] ?? 0), 0);
  for (const config of new Set(pipeline.map((p) => p.config))) {
    const streaming = pipeline.filter((p) => p.config === config && p.variant.source === 'standin');
    for (const label of new Set(pipeline.filter((p) => p.config === config && p.variant.source === 'standin-snapshot').map((p) => p.variant.label))) {
      const snapshot = pipeline.filter((p) => p.config === config && p.variant.label === label);
      const ratio = streaming.length ? meanOf(snapshot.map((p) => p.eventsPerSec)) / meanOf(streaming.map((p) => p.eventsPerSec)) : Number.NaN;
      const cpuRatio = streaming.length ? meanOf(snapshot.map(allUs)) / meanOf(streaming.map(allUs)) : Number.NaN;
      out.push({ config, label, snapshot, streaming, ratio, cpuRatio });
    }
  }
  return out;
}

/**
 * The issue-10 comparison: rows/s of the snapshot next to events/s of streaming the same documents, CPU
 * µs per row / per event of each process (steadier than wall time on a shared machine), the reader's own
 * snapshot rate, and the target "snapshot ≥ 1.0× streaming". Undefined without a standin-snapshot run.
 */
function snapshotSummary(pipeline: PipelineResult[]): { text: string; targets: { name: string; met: boolean; detail: string }[] } | undefined {
  const ratios = snapshotRatios(pipeline);
  if (!ratios.length) return undefined;
  const lines: string[] = ['Snapshot vs streaming the same documents (stand-in: N inserts read as N snapshot rows vs as N insert events; means over the runs; µs = CPU µs per row or event):'];
  const rows: (string | number)[][] = [['config', 'variant', 'runs: /s', 'mean /s', 'vs streaming', ...PROCS.map((p) => `µs ${p}`), 'µs all', 'CPU vs streaming', 'reader snapshot rows/s', 'objects', 'mean batch', 'lake exact', 'documents digest']];
  const streamingRows = new Map<string, PipelineResult[]>();
  for (const r of ratios) streamingRows.set(r.config, r.streaming);
  const row = (config: string, label: string, runs: PipelineResult[], vs: string, cpuVs: string) => {
    const us = (k: string) => (runs.every((p) => p.cpuUsPerEvent[k] !== undefined) ? meanOf(runs.map((p) => p.cpuUsPerEvent[k])) : Number.NaN);
    const digests = [...new Set(runs.map((p) => p.lakeDocuments?.digest ?? '–'))];
    const snapRate = runs.flatMap((p) => (p.snapshot ? [p.snapshot.rowsPerSec] : []));
    return [
      config,
      label,
      runs.map((p) => f0(p.eventsPerSec)).join(' / '),
      f0(meanOf(runs.map((p) => p.eventsPerSec))),
      vs,
      ...PROCS.map((k) => f1(us(k))),
      f1(meanOf(runs.map((p) => PROCS.reduce((sum, k) => sum + (p.cpuUsPerEvent[k] ?? 0), 0)))),
      cpuVs,
      snapRate.length ? snapRate.map(f0).join(' / ') : '–',
      [...new Set(runs.map((p) => p.objects))].join('/'),
      f0(meanOf(runs.map((p) => p.meanBatchEvents))),
      runs.every((p) => p.lake.exact) ? `yes (${Object.entries(runs[0].lakeDocuments?.operations ?? {}).map(([op, n]) => `${n} ${op}`).join(', ')})` : 'NO',
      digests.join(' / '),
    ];
  };
  for (const [config, runs] of streamingRows) if (runs.length) rows.push(row(config, runs[0].variant.label, runs, '1.00×', '1.00×'));
  for (const r of ratios) rows.push(row(r.config, r.label, r.snapshot, `${f2(r.ratio)}×`, `${f2(r.cpuRatio)}×`));
  lines.push(table(rows));
  const targets: { name: string; met: boolean; detail: string }[] = [];
  for (const r of ratios) {
    const same = r.streaming.length > 0 && [...r.snapshot, ...r.streaming].every((p) => p.lakeDocuments?.digest === r.streaming[0].lakeDocuments?.digest);
    const rowsPerSec = meanOf(r.snapshot.map((p) => p.eventsPerSec));
    const eventsPerSec = r.streaming.length ? meanOf(r.streaming.map((p) => p.eventsPerSec)) : Number.NaN;
    const detail = r.streaming.length
      ? `${f2(r.ratio)}× (${f0(rowsPerSec)} rows/s vs ${f0(eventsPerSec)} events/s, ${r.snapshot.length} and ${r.streaming.length} run(s)); CPU per row ${f2(r.cpuRatio)}× per event; same documents: ${same ? 'yes' : 'NO'}`
      : 'no standin run to compare with (--sources=standin,standin-snapshot)';
    lines.push(`target: snapshot >= 1.0x streaming (${r.config}, ${r.label}): ${detail} — ${r.streaming.length && r.ratio >= 1 && same ? 'met' : 'NOT MET'}`);
    targets.push({ name: `${r.config} ${r.label} ≥ 1.0× streaming the same documents`, met: r.streaming.length > 0 && r.ratio >= 1 && same, detail });
  }
  return { text: lines.join('\n'), targets };
}

function report(opts: Options, m: ReturnType<typeof machine>, baseline: BaselineResult[], pipeline: PipelineResult[]): { text: string; targets: { name: string; met: boolean; detail: string }[] } {
  const lines: string[] = [];
  lines.push('', `Machine: ${m.nproc} CPUs (${m.cpuModel}${m.cpuMHz ? `, ${m.cpuMHz} MHz` : ''}), ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.kernel}, Node ${m.node}, redis-server ${m.redis}${m.cgroupCpuMax ? `, cgroup cpu.max ${m.cgroupCpuMax}` : ''}`);
  if (baseline.length) {
    lines.push('', `Bare BullMQ (${opts.baselineCount.toLocaleString('en-US')} events of ~${f0(baseline[0].eventJsonBytes)} B JSON, Worker concurrency ${opts.baselineConcurrency}, addBulk ~${opts.chunkEvents} events per call, first add → last completion):`);
    const rows: (string | number)[][] = [['events/job', 'events/s', 'jobs/s', 'seconds', 'adds done s', 'CPU producer', 'worker', 'redis', 'other', 'RSS producer', 'worker', 'redis MiB']];
    for (const b of baseline) {
      rows.push([b.label, f0(b.eventsPerSec), f0(b.jobs / b.seconds), f2(b.seconds), f2(b.addSeconds), f2(b.cpu.cores.producer), f2(b.cpu.cores.worker), f2(b.cpu.cores.redis), f2(b.cpu.otherCores), f0(b.peakRssMiB.producer), f0(b.peakRssMiB.worker), f0(b.peakRssMiB.redis)]);
    }
    lines.push(table(rows));
  }
  const ref = baseline.find((b) => b.jobSize === 1000 && !b.generated);
  const targets: { name: string; met: boolean; detail: string }[] = [];
  if (pipeline.length) {
    lines.push('', `Pipeline (${opts.count.toLocaleString('en-US')} events, SYNTHETIC_DOC_BYTES=${opts.docBytes}, BATCH_SIZE=${opts.batchSize}, BATCH_TIMEOUT_MS=${opts.batchTimeoutMs}, CHANNEL_BUFFER_SIZE=${opts.buffer}, batch-writer NUM_WORKERS=${opts.writerWorkers}, s3-uploader NUM_WORKERS=${opts.uploaderWorkers}, node flags ${SERVICES.map((s) => `${s} "${serviceNodeArgs(opts, s).join(' ')}"`).join(', ')}${opts.dist !== join(ROOT, 'dist/apps') ? `, services from ${opts.dist}` : ''}, s3rver with S3_CONDITIONAL_WRITES=false):`);
    const gen = baseline.find((b) => b.jobSize === 1000 && b.generated);
    const rows: (string | number)[][] = [['config', 'events/s', 'vs BullMQ(1000)', 'vs BullMQ(1000, generated)', 'seconds', 'read/s', 'unthrottled read/s', 'write/s', 'checkpoint/s', 'objects', 'mean KiB', 'lake exact', 'other CPU']];
    for (const p of pipeline) {
      rows.push([
        p.name,
        f0(p.eventsPerSec),
        ref ? `${f2(p.eventsPerSec / ref.eventsPerSec)}×` : '–',
        gen ? `${f2(p.eventsPerSec / gen.eventsPerSec)}×` : '–',
        f2(p.seconds),
        f0(p.stages.read.eventsPerSec),
        f0(p.readerUnthrottledEventsPerSec),
        f0(p.stages.write.eventsPerSec),
        f0(p.stages.checkpoint.eventsPerSec),
        p.objects,
        f0(p.meanObjectBytes / 1024),
        p.lake.exact ? `yes (${p.lake.events}, 0 missing, 0 dup)` : `NO (${p.lake.events} events, ${p.lake.missing} missing, ${p.lake.duplicates} dup, ${p.lake.badObjects} bad)`,
        f2(p.cpu.otherCores),
      ]);
    }
    lines.push(table(rows));
    lines.push('', 'Stage timing (seconds after the reader was spawned: first progress → all N) and backlog:');
    const srows: (string | number)[][] = [['config', 'read', 'written', 'checkpointed', 'reader throttled at', 'max in flight', 'max batches waiting', 'max objects waiting', 'mean batch events']];
    for (const p of pipeline) {
      const span = (s: { firstS: number; doneS: number }) => `${f2(s.firstS)}–${f2(s.doneS)}`;
      srows.push([p.name, span(p.stages.read), span(p.stages.write), span(p.stages.checkpoint), p.readerThrottledAtS === null ? 'never' : `${f2(p.readerThrottledAtS)} s`, f0(p.maxInFlight), p.maxBatchesWaiting, p.maxObjectsWaiting, f0(p.meanBatchEvents)]);
    }
    lines.push(table(srows));
    lines.push('', 'CPU over the run (cores = CPU seconds / wall seconds; µs per event in brackets) and peak RSS (sampled every 200 ms / VmHWM):');
    const procs = ['change-reader', 'batch-writer', 's3-uploader', 'redis', 's3rver', ...(pipeline.some((p) => p.cpu.cores.mongo !== undefined) ? ['mongo'] : []), 'bench'];
    const crows: (string | number)[][] = [['config', ...procs, 'other', 'machine', ...SERVICES.map((s) => `RSS ${s} MiB`), 'RSS redis']];
    for (const p of pipeline) {
      crows.push([
        p.name,
        ...procs.map((k) => `${f2(p.cpu.cores[k])} (${f0(p.cpuUsPerEvent[k])})`),
        f2(p.cpu.otherCores),
        f2(p.cpu.machineCores),
        ...SERVICES.map((s) => `${f0(p.peakRssMiB[s])} / ${f0(p.hwmMiB[s])}`),
        f0(p.peakRssMiB.redis),
      ]);
    }
    lines.push(table(crows));
    lines.push('', 'Main thread (event loop) over the run, share of wall time: on a CPU / runnable but waiting for a CPU / idle (waiting on I/O), from /proc/<pid>/schedstat:');
    const mrows: (string | number)[][] = [['config', ...SERVICES, 'redis']];
    const pct = (x: number) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–');
    for (const p of pipeline) mrows.push([p.name, ...[...SERVICES, 'redis'].map((s) => { const m = p.cpu.mainThread[s]; return m ? `${pct(m.onCpu)} / ${pct(m.waitingForCpu)} / ${pct(m.idle)}` : '–'; })]);
    lines.push(table(mrows));
    lines.push('', 'V8 heap peaks from each service\'s /metrics, sampled every 500 ms (heap total / heap used / external, MiB):');
    const hrows: (string | number)[][] = [['config', ...SERVICES]];
    for (const p of pipeline) hrows.push([p.name, ...SERVICES.map((s) => `${f0(p.heapPeakMiB[s].heapTotal)} / ${f0(p.heapPeakMiB[s].heapUsed)} / ${f0(p.heapPeakMiB[s].external)}`)]);
    lines.push(table(hrows));
    lines.push('', 'Redis after the run:');
    const rrows: (string | number)[][] = [['config', 'used MiB', 'peak MiB', 'keys', 'batches completed kept', 'objects completed kept', 'failed']];
    for (const p of pipeline) {
      const r = p.redisInfo;
      rrows.push([p.name, f0(Number(r.usedMemoryMiB)), f0(Number(r.usedMemoryPeakMiB)), r.keys, r.batchesCompletedKept, r.objectsCompletedKept, Number(r.batchesFailed) + Number(r.objectsFailed)]);
    }
    lines.push(table(rrows));
    const match = pipeline.find((p) => p.eventsMatchGenerator);
    if (match?.eventsMatchGenerator) {
      const e = match.eventsMatchGenerator;
      lines.push('', `Baseline events vs stored events: ${e.events} events of ${e.object} (${match.config}) ${e.equal ? 'equal the baseline generator' : `DIFFER from the baseline generator (seq ${e.firstDifference})`}.`);
    }

    const bySource = sourceSummary(pipeline);
    if (bySource) lines.push('', bySource);
    const snapshot = snapshotSummary(pipeline);
    if (snapshot) {
      lines.push('', snapshot.text);
      targets.push(...snapshot.targets);
    }
    for (const [config, ratio] of Object.entries(TARGETS)) {
      // The targets are about the synthetic source on the build under test.
      const p = pipeline.find((x) => x.config === config && x.variant.source === 'synthetic' && x.variant.dist === opts.dist);
      if (!p || !ref) continue;
      const r = p.eventsPerSec / ref.eventsPerSec;
      targets.push({ name: `${config} end to end ≥ ${ratio}× bare BullMQ (1000 events/job)`, met: r >= ratio, detail: `${f2(r)}× (${f0(p.eventsPerSec)} vs ${f0(ref.eventsPerSec)} events/s)` });
    }
    for (const s of SERVICES) {
      const worst = pipeline.reduce((a, b) => (Math.max(b.peakRssMiB[s], b.hwmMiB[s]) > Math.max(a.peakRssMiB[s], a.hwmMiB[s]) ? b : a));
      const peak = Math.max(worst.peakRssMiB[s], worst.hwmMiB[s]);
      targets.push({ name: `${s} < ${RSS_TARGET_MIB} MiB RSS`, met: peak < RSS_TARGET_MIB, detail: `peak ${f1(peak)} MiB (${worst.config})` });
    }
    targets.push({ name: 'lake exact (every config: N events, 0 missing, 0 duplicates)', met: pipeline.every((p) => p.lake.exact), detail: pipeline.map((p) => `${p.name}: ${p.lake.exact ? 'exact' : 'NOT exact'}`).join(', ') });
    lines.push('', 'Targets:');
    for (const t of targets) lines.push(`  ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}: ${t.detail}`);
  }
  const noisy = [...baseline.map((b) => b.cpu.otherCores), ...pipeline.map((p) => p.cpu.otherCores)].filter((x) => x > opts.noiseCores);
  if (noisy.length) lines.push('', `Note: other processes used up to ${f2(Math.max(...noisy))} cores during ${noisy.length} reported measurement(s) even after reruns; those figures are noisy.`);
  return { text: lines.join('\n'), targets };
}

// ------------------------------------------------------------------------------------------------
// main

/** The pipeline phase's variants: each --sources entry on --dist, and the synthetic source on --compare-dist. */
function pipelineVariants(opts: Options): Variant[] {
  const variants = variantsOf(opts, opts.sources, '--sources');
  if (opts.compareDist) variants.push({ source: 'synthetic', dist: opts.compareDist, label: `synthetic @ ${opts.compareDist}` });
  return variants;
}

/** The variants of `sources` on --dist (standin-snapshot: one per --snapshot-chunk-sizes entry). */
function variantsOf(opts: Options, sources: string[], flag: string): Variant[] {
  const variants: Variant[] = [];
  for (const s of sources) {
    if (!(SOURCES as readonly string[]).includes(s)) throw new Error(`${flag}: ${s} is none of ${SOURCES.join(', ')}`);
    if (s === 'standin-snapshot') {
      for (const size of opts.snapshotChunkSizes) variants.push({ source: s, dist: opts.dist, label: opts.snapshotChunkSizes.length === 1 && size === 1000 ? s : `${s} chunk=${size}`, snapshotChunkSize: size });
    } else {
      variants.push({ source: s as Variant['source'], dist: opts.dist, label: s === 'synthetic' && sources.length === 1 && !opts.compareDist ? '' : s });
    }
  }
  return variants;
}

function logPipelineAttempt(a: PipelineResult): void {
  log(
    `pipeline: ${a.name}: ${f0(a.eventsPerSec)} events/s in ${f2(a.seconds)} s; lake ${a.lake.exact ? 'exact' : 'NOT EXACT'} (${a.lake.objects} objects); ` +
      `CPU reader ${f2(a.cpu.cores['change-reader'])} writer ${f2(a.cpu.cores['batch-writer'])} uploader ${f2(a.cpu.cores['s3-uploader'])} redis ${f2(a.cpu.cores.redis)} s3rver ${f2(a.cpu.cores.s3rver)}${a.cpu.cores.mongo === undefined ? '' : ` mongo ${f2(a.cpu.cores.mongo)}`} other ${f2(a.cpu.otherCores)}; ` +
      `peak RSS ${SERVICES.map((s) => f0(Math.max(a.peakRssMiB[s], a.hwmMiB[s]))).join('/')} MiB` +
      (a.lakeDocuments ? `; lake by operation ${JSON.stringify(a.lakeDocuments.operations)}, documents digest ${a.lakeDocuments.digest}` : '') +
      (a.snapshot ? `; snapshot (chunk ${a.snapshot.chunkSize}, parallelism ${a.snapshot.parallelism}): ${a.snapshot.rows} rows emitted ${f2(a.snapshot.firstRowS)}–${f2(a.snapshot.rowsDoneS)} s, ${f0(a.snapshot.rowsPerSec)} rows/s in the reader, phase at the end ${a.snapshot.phaseAtEnd}` : ''),
  );
}

async function main(): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 24) throw new Error(`Node 24 needed (zstd, as the services run); this is ${process.version}. Use node_modules/.bin/node tools/dev/run-ts.mjs tools/bench/pipeline/run.ts`);
  if (!existsSync(join(ROOT, 'nx.json'))) throw new Error('run from the repository root');
  const opts = parseOptions();
  for (const c of opts.configs) if (!/^(jsonl|csv|parquet)\+(none|gzip|zstd)$/.test(c)) throw new Error(`--configs: ${c} is not FORMAT+COMPRESSION`);
  const out = mkdtempSync(join(os.tmpdir(), 'runnel-pipeline-bench-'));
  const m = machine();
  log(`machine: ${m.nproc} CPUs, ${m.cpuModel}, ${m.memoryGiB.toFixed(1)} GiB, Node ${m.node}; results in ${out}`);
  if (opts.only.has('pipeline') || opts.only.has('profile')) build(opts);

  const baseline: BaselineResult[] = [];
  const baselineAttempts: BaselineResult[][] = [];
  if (opts.only.has('baseline')) {
    for (const b of opts.baseline) {
      const size = `${b.jobSize}${b.generate ? ' (generated)' : ''}`;
      log(`baseline: bare BullMQ, ${size} event(s)/job, ${opts.baselineCount} events, concurrency ${opts.baselineConcurrency} ...`);
      const { best, attempts } = await quietest(opts, `baseline ${size}/job`, () => baselineOnce(opts, b));
      baseline.push(best);
      baselineAttempts.push(attempts);
      for (const a of attempts) log(`baseline: ${size}/job: ${f0(a.eventsPerSec)} events/s in ${f2(a.seconds)} s (CPU producer ${f2(a.cpu.cores.producer)}, worker ${f2(a.cpu.cores.worker)}, redis ${f2(a.cpu.cores.redis)}, other ${f2(a.cpu.otherCores)})`);
    }
  }

  const pipeline: PipelineResult[] = [];
  const pipelineAttempts: PipelineResult[][] = [];
  if (opts.only.has('pipeline')) {
    const variants = pipelineVariants(opts);
    for (let round = 0; round < opts.rounds; round++) {
      // A B, B A, A B …: each variant meets the machine's drift from both sides.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        for (const config of opts.configs) {
          const name = variant.label ? `${config} ${variant.label}` : config;
          log(`pipeline: ${name}${opts.rounds > 1 ? ` (round ${round + 1} of ${opts.rounds})` : ''}, ${opts.count} events ...`);
          const { best, attempts } = await quietest(opts, `pipeline ${name}`, () => pipelineOnce(opts, config, { variant }));
          pipeline.push(best);
          pipelineAttempts.push(attempts);
          for (const a of attempts) logPipelineAttempt(a);
        }
      }
    }
  }

  const { text, targets } = report(opts, m, baseline, pipeline);
  const sweep = opts.only.has('sweep') ? await sweepPhase(opts) : undefined;

  // profile the configs below their target (or all with --profile)
  const profiled: PipelineResult[] = [];
  if (opts.only.has('profile') && opts.profile !== 'never') {
    const ref = baseline.find((b) => b.jobSize === 1000 && !b.generated);
    const below = snapshotRatios(pipeline).filter((r) => !(r.ratio >= 1));
    const want: { config: string; variant: Variant }[] = [];
    for (const config of opts.configs) {
      for (const variant of variantsOf(opts, opts.profileSources, '--profile-sources')) {
        if (opts.profile !== 'always') {
          if (variant.source === 'synthetic') {
            const p = pipeline.find((x) => x.config === config && x.variant.source === 'synthetic');
            if (!(p !== undefined && ref !== undefined && TARGETS[config] !== undefined && p.eventsPerSec / ref.eventsPerSec < TARGETS[config])) continue;
          } else {
            // The stand-in pair, for where the snapshot's time goes next to streaming's.
            const slow = below.filter((r) => r.config === config);
            if (!slow.length || (variant.source === 'standin-snapshot' && !slow.some((r) => r.label === variant.label))) continue;
          }
        }
        want.push({ config, variant });
      }
    }
    for (const { config, variant } of want) {
      const name = variant.label ? `${config} ${variant.label}` : config;
      const dir = join(out, `profile-${name.replace(/[^a-z0-9]+/gi, '-')}`);
      for (const s of SERVICES) mkdirSync(join(dir, s), { recursive: true });
      log(`profile: ${name} again with --cpu-prof on the three services ...`);
      const r = await pipelineOnce(opts, config, { profileDir: dir, variant });
      r.profiles = { ...(r.profiles as object), summaries: summariseProfiles(r) };
      profiled.push(r);
    }
  }

  const results = { when: new Date().toISOString(), machine: m, options: { ...opts, only: [...opts.only] }, baseline, baselineAttempts, pipeline, pipelineAttempts, profiled, sweep: sweep?.rows, targets };
  const file = join(out, 'results.json');
  writeFileSync(file, JSON.stringify(results, null, 2));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2));
  process.stdout.write(`${text}\n`);
  if (sweep) process.stdout.write(`${sweep.text}\n`);
  for (const p of profiled) {
    process.stdout.write(`\nProfiled run of ${p.name} (under --cpu-prof): ${f0(p.eventsPerSec)} events/s; CPU µs/event: ${Object.entries(p.cpuUsPerEvent).map(([k, v]) => `${k} ${f0(v)}`).join(', ')}\n`);
    const sums = (p.profiles as { summaries: Record<string, { text?: string; error?: string }> }).summaries;
    for (const s of SERVICES) process.stdout.write(`\n[${s}]\n${sums[s]?.text ?? sums[s]?.error ?? ''}\n`);
  }
  process.stdout.write(`\nResults JSON: ${file}${opts.json ? ` and ${opts.json}` : ''}\n`);
}

// ------------------------------------------------------------------------------------------------

const role = option('role', 'BENCH_ROLE_UNUSED');
// a role child ends with the bench, whatever happens to the bench
if (role) process.on('disconnect', () => process.exit(0));
if (role === 'bullmq-producer') void producerRole();
else if (role === 'bullmq-worker') void workerRole();
else if (role === 's3rver') void s3rverRole();
else if (role === 'mongo') void mongoRole();
else {
  let shuttingDown = false;
  const shutdown = async (code: number, why?: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (why) process.stderr.write(`\n${why}\n`);
    await Promise.all([...children.values()].map((c) => stopChild(c, 3000)));
    await Promise.all([...redisServers].map((r) => r.stop().catch(() => undefined)));
    process.exit(code);
  };
  process.on('exit', killAllNow);
  process.on('SIGINT', () => void shutdown(130, 'interrupted; stopping child processes'));
  process.on('SIGTERM', () => void shutdown(143, 'terminated; stopping child processes'));
  main().then(
    () => shutdown(0),
    (err: Error) => shutdown(1, `bench failed: ${err?.stack ?? err}`),
  );
}
