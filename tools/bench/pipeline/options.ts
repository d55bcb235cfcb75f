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
 *    (summariseProfile of tools/bench/gateway/profile-summary.ts).
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
import { join } from 'node:path';
import { CommandLine, OptionError, type PipelineService, REPO_ROOT } from '@runnel/testing';
import { imageNodeArgs } from '../../docker/image-build-args';
import { SYNTHETIC_EVENTS_PER_SECOND } from './synthetic-events';

/** The services' builds: dist/apps/<service>/main.js. */
export const DIST = join(REPO_ROOT, 'dist/apps');

/** The options parseOptions reads (any other is refused; --role and --args are roles.ts's, in the child processes). */
export const OPTION_NAMES = {
  values: [
    'count', 'baseline-count', 'baseline', 'baseline-concurrency', 'chunk-events', 'configs', 'batch-size', 'batch-timeout-ms', 'buffer', 'writer-workers',
    'uploader-workers', 'doc-bytes', 'collections', 'poll-ms', 'timeout', 'noise-cores', 'retries', 'only', 'sweep-configs', 'sweep-count', 'dist',
    'service-node-args', 'json', 'sources', 'compare-dist', 'rounds', 'synthetic-events-per-second', 'standin-writes', 'snapshot-chunk-sizes',
    'snapshot-parallelism', 'profile-sources',
  ],
  flags: ['profile', 'no-profile', 'no-build'],
} as const;

/** --configs: each FORMAT+COMPRESSION. */
function configsOf(configs: string[]): string[] {
  for (const c of configs) if (!/^(jsonl|csv|parquet)\+(none|gzip|zstd)$/.test(c)) throw new OptionError(`--configs: ${c} is not FORMAT+COMPRESSION (jsonl|csv|parquet + none|gzip|zstd)`);
  return configs;
}

export function parseOptions(cl = new CommandLine(process.argv.slice(2), process.env, OPTION_NAMES)) {
  const profile = cl.option('profile', 'BENCH_PROFILE'); // the flag reads as "true"
  const count = cl.integer('count', 'BENCH_COUNT', 200_000);
  const sources = cl.list('sources', 'BENCH_SOURCES', 'synthetic');
  const writerWorkers = cl.integer('writer-workers', 'BENCH_WRITER_WORKERS', 2);
  return {
    count,
    baselineCount: cl.integer('baseline-count', 'BENCH_BASELINE_COUNT', count),
    baseline: cl.list('baseline', 'BENCH_BASELINE', '1,100,1000,1000g').map((b) => ({ jobSize: Number(b.replace(/g$/, '')), generate: b.endsWith('g') })),
    baselineConcurrency: cl.integer('baseline-concurrency', 'BENCH_BASELINE_CONCURRENCY', writerWorkers),
    chunkEvents: cl.integer('chunk-events', 'BENCH_CHUNK_EVENTS', 10_000),
    configs: configsOf(cl.list('configs', 'BENCH_CONFIGS', 'jsonl+zstd,jsonl+gzip,parquet+zstd,csv+none')),
    batchSize: cl.integer('batch-size', 'BENCH_BATCH_SIZE', 1000),
    batchTimeoutMs: cl.integer('batch-timeout-ms', 'BENCH_BATCH_TIMEOUT_MS', 1000),
    buffer: cl.integer('buffer', 'BENCH_BUFFER', 100_000),
    writerWorkers,
    uploaderWorkers: cl.integer('uploader-workers', 'BENCH_UPLOADER_WORKERS', 4),
    docBytes: cl.integer('doc-bytes', 'BENCH_DOC_BYTES', 1024),
    collections: cl.list('collections', 'BENCH_COLLECTIONS', 'orders,customers,products'),
    pollMs: cl.number('poll-ms', 'BENCH_POLL_MS', 100),
    timeoutS: cl.number('timeout', 'BENCH_TIMEOUT', 600),
    noiseCores: cl.number('noise-cores', 'BENCH_NOISE_CORES', 0.25),
    retries: cl.integer('retries', 'BENCH_RETRIES', 2, 0),
    only: new Set(cl.list('only', 'BENCH_ONLY', 'baseline,pipeline,profile')),
    sweepConfigs: cl.list('sweep-configs', 'BENCH_SWEEP_CONFIGS', 'jsonl+zstd,parquet+zstd'),
    sweepCount: cl.integer('sweep-count', 'BENCH_SWEEP_COUNT', 100_000),
    profile: cl.has('no-profile') ? 'never' : profile === 'true' ? 'always' : (profile ?? 'auto'),
    build: cl.has('no-build') || cl.option('dist', 'BENCH_DIST') ? 'missing' : cl.option('build', 'BENCH_BUILD', 'always'), // (no --build: only the variable)
    dist: cl.option('dist', 'BENCH_DIST', DIST),
    serviceNodeArgs: cl.option('service-node-args', 'BENCH_SERVICE_NODE_ARGS'),
    json: cl.option('json', 'BENCH_JSON'),
    sources,
    compareDist: cl.option('compare-dist', 'BENCH_COMPARE_DIST'),
    rounds: cl.integer('rounds', 'BENCH_ROUNDS', 1),
    syntheticEventsPerSecond: cl.integer('synthetic-events-per-second', 'BENCH_SYNTHETIC_EVENTS_PER_SECOND', SYNTHETIC_EVENTS_PER_SECOND),
    standinWrites: standinWrites(cl.option('standin-writes', 'BENCH_STANDIN_WRITES'), sources),
    snapshotChunkSizes: cl.list('snapshot-chunk-sizes', 'BENCH_SNAPSHOT_CHUNK_SIZES', '1000').map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new OptionError(`--snapshot-chunk-sizes: ${x} is not an integer in 1..100000 (SNAPSHOT_CHUNK_SIZE)`);
      return n;
    }),
    snapshotParallelism: cl.integer('snapshot-parallelism', 'BENCH_SNAPSHOT_PARALLELISM', 2),
    profileSources: cl.list('profile-sources', 'BENCH_PROFILE_SOURCES', sources.includes('standin-snapshot') ? 'standin,standin-snapshot' : 'synthetic'),
  };
}

/** --standin-writes: the mixed workload unless the snapshot is compared, which needs the same documents both ways. */
function standinWrites(value: string | undefined, sources: string[]): 'workload' | 'inserts' {
  const v = value ?? (sources.includes('standin-snapshot') ? 'inserts' : 'workload');
  if (v !== 'workload' && v !== 'inserts') throw new OptionError(`--standin-writes: ${v} is neither workload nor inserts`);
  return v;
}
export type Options = ReturnType<typeof parseOptions>;

/** Node flags a service runs with: --service-node-args, or the NODE_OPTIONS its image is built with (docker-bake.hcl, as deployed). */
export function serviceNodeArgs(opts: Options, svc: PipelineService): string[] {
  if (opts.serviceNodeArgs !== undefined) return opts.serviceNodeArgs === 'none' ? [] : opts.serviceNodeArgs.split(' ').filter(Boolean);
  return imageNodeArgs(svc);
}
