import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { decodeObject, parseObjectKey, readLakeObjects, verifyLake } from '@runnel/lake';
import { CpuMeter, type CpuReading, f0, f1, PIPELINE_SERVICES, type PipelineService, PipelineUnderTest, procMemMiB, readyOf, RedisServer, REPO_ROOT, RssPeaks, scrape, sumsByName, waitForPosition } from '@runnel/testing';
import { describeWorkload, runWorkload } from '../../mongo/workload';
import { DIST, type Options, serviceNodeArgs } from './options';
import { startRole } from './roles';
import { quietest } from './quietest';
import { log, logPipelineAttempt } from './report';
import { insertStandInDocuments } from './standin-documents';
import { syntheticEnvelope } from './synthetic-events';

const SERVICES = PIPELINE_SERVICES;
const now = () => performance.now();
const monoUs = () => Number(process.hrtime.bigint() / 1000n);

/** Builds the three services (`nx run-many -t build`) unless --no-build and their bundles exist. */
export function buildServices(opts: Options): void {
  const missing = SERVICES.filter((s) => !existsSync(join(opts.dist, s, 'main.js')));
  if (opts.build !== 'always' && missing.length === 0) {
    log(`build: reusing ${opts.dist}/{change-reader,batch-writer,s3-uploader}/main.js`);
    return;
  }
  if (opts.dist !== DIST) throw new Error(`--dist=${opts.dist}: ${missing.join(', ')} missing`);
  log('build: nx run-many -t build -p change-reader batch-writer s3-uploader ...');
  const t0 = Date.now();
  const r = spawnSync(join(REPO_ROOT, 'node_modules/.bin/nx'), ['run-many', '-t', 'build', '-p', ...SERVICES], {
    cwd: REPO_ROOT,
    env: { ...process.env, NX_DAEMON: 'false', PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  log(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** What the pipeline phase runs: a source on a build. */
export interface Variant {
  source: 'synthetic' | 'standin' | 'standin-snapshot';
  /** DIR of DIR/<service>/main.js. */
  dist: string;
  /** '' for the default (synthetic on --dist), else e.g. `standin` or `synthetic @ /tmp/base`. */
  label: string;
  /** standin-snapshot: SNAPSHOT_CHUNK_SIZE. */
  snapshotChunkSize?: number;
}
export const SOURCES = ['synthetic', 'standin', 'standin-snapshot'] as const;

/** A figure of each process of the run, by name. */
type PerProcess = Record<string, number>;

export interface PipelineResult {
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
  cpu: CpuReading;
  /** By process (change-reader … redis, s3rver, mongo, bench). */
  cpuUsPerEvent: PerProcess;
  /** Sampled every 200 ms, and the kernel's VmHWM. */
  peakRssMiB: PerProcess;
  hwmMiB: PerProcess;
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

/** A service's /metrics, each metric summed over its series. */
async function metricSums(p: PipelineUnderTest, app: PipelineService): Promise<Record<string, number>> {
  return sumsByName(await scrape(`http://127.0.0.1:${p.port(app)}`));
}

function splitConfig(config: string): { format: string; compression: string } {
  const [format, compression = 'none'] = config.split('+');
  return { format, compression };
}

const STANDIN_DATABASE = 'shop';

/** One measurement of the pipeline: `config` (FORMAT+COMPRESSION) with the variant's source and build. */
export async function pipelineOnce(opts: Options, config: string, { profileDir, variant = { source: 'synthetic', dist: opts.dist, label: '' } }: { profileDir?: string; variant?: Variant } = {}): Promise<PipelineResult> {
  const { format, compression } = splitConfig(config);
  const N = opts.count;
  const redis = await RedisServer.start();
  // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only has in its legacy provider:
  // without it every listing longer than one page (1,000 keys) fails with InternalError.
  const s3 = startRole('s3rver', {}, ['--openssl-legacy-provider']);
  const mongo = variant.source !== 'synthetic' ? startRole('mongo') : undefined;
  let pipeline: PipelineUnderTest | undefined;
  try {
    const s3Port = Number((await s3.nextMessage('ready', 30_000)).port);
    pipeline = await PipelineUnderTest.create({
      redis,
      s3: { endpoint: `http://127.0.0.1:${s3Port}` },
      s3Prefix: `bench/${config.replace('+', '-')}`,
      // NODE_PATH: a saved build (--dist, --compare-dist) outside the repository finds its packages.
      env: { SHUTDOWN_TIMEOUT: '10', NODE_PATH: join(REPO_ROOT, 'node_modules') },
      writer: { FORMAT: format, COMPRESSION: compression, NUM_WORKERS: String(opts.writerWorkers) },
      uploader: { NUM_WORKERS: String(opts.uploaderWorkers) },
      nodeArgs: (svc) => [...serviceNodeArgs(opts, svc), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, svc)}`] : [])],
      dist: variant.dist,
    });
    const p = pipeline;
    const writer = p.startService('batch-writer');
    const uploader = p.startService('s3-uploader');
    await Promise.all([p.ready('batch-writer'), p.ready('s3-uploader')]);

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
      const uri = String((await mongo.nextMessage('ready', 30_000)).uri);
      const mongodb = { SOURCE: 'mongodb', MONGODB_URI: uri, MONGODB_DATABASE: STANDIN_DATABASE, FULL_DOCUMENT: 'updateLookup' };
      if (variant.source === 'standin-snapshot') {
        // The documents first, then the reader: a new stream (no checkpoint) snapshots them all, then
        // streams from the position it took before reading (where no event follows).
        preload = await preloadInserts(opts, uri, what);
        sourceEnv = { ...mongodb, SNAPSHOT_MODE: 'initial', SNAPSHOT_CHUNK_SIZE: String(variant.snapshotChunkSize ?? 1000), SNAPSHOT_PARALLELISM: String(opts.snapshotParallelism) };
      } else {
        sourceEnv = { ...mongodb, SNAPSHOT_MODE: 'never' };
        const positioning = p.spawn('change-reader', sourceEnv, []);
        try {
          await waitForPosition(p.port('change-reader'), positioning);
        } finally {
          await positioning.stop('SIGTERM', 10_000);
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
    const pidsBefore: Record<string, number | undefined> = { 'batch-writer': writer.pid, 's3-uploader': uploader.pid, redis: redis.pid, s3rver: s3.pid, ...(mongo ? { mongo: mongo.pid } : {}) };
    const reader = p.startService('change-reader', { ...sourceEnv, BATCH_SIZE: String(opts.batchSize), BATCH_TIMEOUT_MS: String(opts.batchTimeoutMs), CHANNEL_BUFFER_SIZE: String(opts.buffer) });
    const meter = new CpuMeter({ 'change-reader': reader.pid, ...pidsBefore, bench: process.pid });
    const pids: Record<string, number | undefined> = { 'change-reader': reader.pid, ...pidsBefore };
    const rss = new RssPeaks(pids);
    const samples: Sample[] = [];
    const writerSeries: { t: number; events: number }[] = [];
    const heapPeakMiB: PipelineResult['heapPeakMiB'] = Object.fromEntries(SERVICES.map((s) => [s, { heapTotal: 0, heapUsed: 0, external: 0 }]));
    const noteHeap = (svc: PipelineService, m: Record<string, number> | undefined) => {
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
        const [w, u, uReady, r] = await Promise.all([metricSums(p, 'batch-writer').catch(() => undefined), metricSums(p, 's3-uploader').catch(() => undefined), readyOf(p.port('s3-uploader')), metricSums(p, 'change-reader').catch(() => undefined)]);
        noteHeap('batch-writer', w);
        noteHeap('s3-uploader', u);
        noteHeap('change-reader', r);
        if (w) writerSeries.push({ t, events: w.runnel_events_processed_total ?? 0 });
        if (u) uploaderSeries.push({ t, uploads: u.runnel_upload_duration_seconds_count ?? 0, objectsWaiting: uReady?.queues.objects?.waiting ?? 0 });
        await sleep(500);
      }
    })();

    const deadline = tStart + opts.timeoutS * 1000;
    let tDone = Number.NaN;
    const snapshotSamples: { t: number; phase: string; rows: number }[] = [];
    let lastSnapshot: ReadySnapshot | undefined;
    for (;;) {
      p.assertRunning();
      if (now() > deadline) throw new Error(`${config}: checkpoint did not reach ${N} within ${opts.timeoutS} s (last: ${JSON.stringify(samples.at(-1))})\n--- change-reader output:\n${reader.tail()}`);
      const ready = await p.readerReady();
      const d = ready?.reader;
      const snapshot = d?.snapshot as ReadySnapshot | null | undefined;
      if (snapshot) {
        lastSnapshot = snapshot;
        snapshotSamples.push({ t: now() - tStart, phase: snapshot.phase, rows: snapshot.rows });
      }
      if (d) {
        const s: Sample = { t: now() - tStart, read: d.read_seq ?? 0, ckpt: d.checkpoint_seq ?? 0, inFlight: d.in_flight_events ?? 0, batchesWaiting: ready?.queues.batches?.waiting ?? 0 };
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
    const peakRssMiB = await rss.stop();
    await metricsLoop;
    const hwm = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, procMemMiB(pid).hwmMiB]));
    const [wFinal, uFinal] = await Promise.all([metricSums(p, 'batch-writer'), metricSums(p, 's3-uploader')]);
    writerSeries.push({ t: now() - tStart, events: wFinal.runnel_events_processed_total ?? 0 });
    const redisInfo = await redisFacts(redis.url);

    // stop the services (SIGTERM: a profiled process writes its profile on exit)
    await Promise.all(SERVICES.map((s) => p.stopService(s)));

    const [report] = await p.lake(verifyLake);
    const lake = report
      ? { objects: report.objects, events: report.events, missing: report.missing, duplicates: report.duplicates, badObjects: report.badObjects.length, maxSeq: report.maxSeq, collections: report.collections, exact: report.events === N && report.maxSeq === N && report.missing === 0 && report.duplicates === 0 && report.badObjects.length === 0 }
      : { objects: 0, events: 0, missing: N, duplicates: 0, badObjects: 0, maxSeq: 0, collections: {}, exact: false };
    // The stand-in's inserts: every one of the N is an insert event, or a snapshot row.
    const lakeDocuments = mongo ? await p.lake(lakeDocumentsOf) : undefined;
    const expectedOperation = variant.source === 'standin-snapshot' ? 'snapshot' : preload?.writes === 'inserts' ? 'insert' : undefined;
    if (lakeDocuments && expectedOperation && lakeDocuments.operations[expectedOperation] !== N) {
      lake.exact = false;
      log(`${what}: the lake holds ${JSON.stringify(lakeDocuments.operations)} by operation, not ${N} ${expectedOperation}`);
    }
    // Only the build under test writes what this bench's generator writes (a saved build may predate the envelope).
    const eventsMatchGenerator = variant.source === 'synthetic' && variant.dist === opts.dist ? await p.lake((client, bucket, prefix) => compareWithGenerator(client, bucket, prefix, opts)) : null;

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
      peakRssMiB,
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
    throw new Error(`${config}: ${(err as Error).stack}\n--- s3rver output:\n${s3.tail()}`);
  } finally {
    await pipeline?.stop();
    await s3.stop('SIGTERM', 10_000);
    await mongo?.stop('SIGTERM', 10_000);
    await redis.stop();
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
async function lakeDocumentsOf(s3: S3Client, bucket: string, prefix: string): Promise<LakeDocuments> {
  const operations: Record<string, number> = {};
  let documents = 0;
  let sum = 0n;
  for await (const o of readLakeObjects(s3, bucket, prefix)) {
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
async function compareWithGenerator(s3: S3Client, bucket: string, prefix: string, opts: Options): Promise<PipelineResult['eventsMatchGenerator']> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  const key = page.Contents?.map((c) => c.Key!).find((k) => parseObjectKey(k));
  if (!key) return null;
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const events = decodeObject(Buffer.from(await res.Body!.transformToByteArray()), parseObjectKey(key)!.extension);
  // The generation is the reader's (an epoch second when the stream started), not the generator's.
  const bad = events.find((e) => !isDeepStrictEqual(e, { ...syntheticEnvelope(e.seq, opts.collections, opts.docBytes, opts.syntheticEventsPerSecond), generation: e.generation }));
  return { object: key, events: events.length, equal: bad === undefined, ...(bad ? { firstDifference: bad.seq } : {}) };
}

/** The pipeline phase's variants: each --sources entry on --dist, and the synthetic source on --compare-dist. */
function pipelineVariants(opts: Options): Variant[] {
  const variants = variantsOf(opts, opts.sources, '--sources');
  if (opts.compareDist) variants.push({ source: 'synthetic', dist: opts.compareDist, label: `synthetic @ ${opts.compareDist}` });
  return variants;
}

/** The variants of `sources` on --dist (standin-snapshot: one per --snapshot-chunk-sizes entry). */
export function variantsOf(opts: Options, sources: string[], flag: string): Variant[] {
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

/** The pipeline phase: every variant and config, --rounds times, each measurement's quietest attempt. */
export async function pipelinePhase(opts: Options): Promise<{ pipeline: PipelineResult[]; pipelineAttempts: PipelineResult[][] }> {
  const pipeline: PipelineResult[] = [];
  const pipelineAttempts: PipelineResult[][] = [];
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
  return { pipeline, pipelineAttempts };
}
