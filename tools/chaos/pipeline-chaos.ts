import { Redis } from 'ioredis';
import { CheckpointStore } from '@runnel/checkpoint';
import { type StreamReport, verifyLake } from '@runnel/lake';
import { Queue } from 'bullmq';
import { DEFAULT_PREFIX, QUEUES } from '@runnel/queue';
import { eventually, FlakyProxy, freePort, PipelineUnderTest, RedisServer, S3Server, type ServiceProcess } from '@runnel/testing';
import { type ChaosHarness, type ChaosSource, readerStatus, type ReaderReplica, type ReaderStatus, type SourceCheck } from './chaos-source';
import { syntheticChaosSource } from './synthetic-chaos-source';

export interface ChaosOptions {
  /** Events in the stream (synthetic: generated; stand-in: the workload writer's change events). */
  events: number;
  /** How long to keep killing things, ms. */
  durationMs: number;
  /** Events per second (spreads the run over the chaos window). */
  rate: number;
  seed?: number;
  /** Where the events come from; default change-reader's synthetic source with `events` and `rate`. */
  source?: ChaosSource;
  log?: (line: string) => void;
}

export interface ChaosReport {
  source: string;
  kills: Record<string, number>;
  redisRestarts: number;
  s3FailedRequests: number;
  /** The events the stream had to end with. */
  expected: number;
  report: StreamReport;
  /** Every (stream, generation) the lake holds; a healthy run has exactly one. */
  reports: StreamReport[];
  lost: number;
  duplicated: number;
  /**
   * Batch and object bodies still in Redis after everything is stored (a few seconds' grace for the
   * last deletions). Left-overs lose no data but hold memory until their TTL (7 days).
   */
  leftoverBodies: number;
  /** Each source scenario's outcome, by name. */
  scenarios: Record<string, string>;
  /** The source's own checks (the stand-in: lake state = collection state). */
  sourceCheck: SourceCheck;
}

type Service = 'batch-writer' | 's3-uploader';

/**
 * The pipeline under fire: the three built services run against a real redis-server and s3rver
 * (through a proxy that can fail requests), reading from `source`. For `durationMs`, every 1–3 s one
 * random service (or reader replica) is killed with SIGKILL and restarted; half-way Redis is restarted
 * (AOF on) and S3 answers 503 for a while; the source's scenarios run at their moments. Then
 * everything settles, and the lake is read back: every event must be there exactly once, and the
 * source checks what only it can (the stand-in: the collections' state rebuilt from the lake).
 */
export async function runPipelineChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => undefined);
  let seed = o.seed ?? 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const source = o.source ?? syntheticChaosSource({ events: o.events, rate: o.rate });
  let redis = await RedisServer.start();
  const redisPort = redis.port;
  const redisDir = redis.dir;
  const s3 = await S3Server.start(['lake']);
  const proxy = await FlakyProxy.start(s3.endpoint);
  let pipeline: PipelineUnderTest | undefined;
  const kills: Record<string, number> = { 'batch-writer': 0, 's3-uploader': 0 };
  const scenarios: Record<string, string> = {};
  let redisRestarts = 0;

  let readers: ReaderReplica[] = [];
  /** Each replica's output from its earlier processes (a failure shows the whole story). */
  const history = new Map<string, string>();
  const replica = (name: string, holder: string, port: number): ReaderReplica => {
    const p = pipeline!.spawn('change-reader', { METRICS_PORT: String(port), HOLDER_ID: holder });
    return { name, holder, port, process: p, status: (ms) => readerStatus(port, ms) };
  };
  const harness: ChaosHarness = {
    log,
    random,
    get readers() {
      return readers;
    },
    async stopReader(r, signal = 'SIGKILL') {
      await r.process.stop(signal, 5000);
      if (signal === 'SIGKILL') kills[r.name]++;
    },
    startReader(r) {
      history.set(r.name, `${history.get(r.name) ?? ''}${r.process.output}--- restarted\n`);
      const next = replica(r.name, r.holder, r.port);
      readers = readers.map((x) => (x.name === r.name ? next : x));
      return next;
    },
    async activeReader() {
      for (const r of readers) if (r.process.running && (await r.status())?.state === 'reading') return r;
      return undefined;
    },
  };

  try {
    await source.start();
    pipeline = await PipelineUnderTest.create({
      redis,
      s3,
      s3Endpoint: proxy.endpoint,
      s3Prefix: 'chaos',
      env: { SHUTDOWN_TIMEOUT: '5', JOB_LOCK_MS: '2000' },
      reader: { ...source.readerEnv(), BATCH_SIZE: '400', BATCH_TIMEOUT_MS: '300', LEASE_TTL_MS: '1500' },
      writer: { FORMAT: 'jsonl', COMPRESSION: 'gzip' },
      uploader: { RETRY_DELAY_MS: '50', MAX_RETRY_DELAY_MS: '1000', MAX_RETRIES: '30' },
      metricsPorts: 'reader', // the readers' ports are their replicas'; no one asks the others
    });
    const services = pipeline.services;
    for (let i = 1; i <= source.replicas; i++) {
      const name = i === 1 ? 'change-reader' : `change-reader-${i}`;
      kills[name] = 0;
      readers.push(replica(name, `chaos-${name}`, await freePort()));
    }
    for (const app of ['batch-writer', 's3-uploader'] as const) pipeline.startService(app);
    await source.begin(harness);

    const t0 = Date.now();
    // Scenario time does not count: the window is for random kills (it grows by each scenario's length).
    let end = t0 + o.durationMs;
    const pending = [...source.scenarios].sort((a, b) => a.at - b.at);
    let redisDone = false;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1000 + random() * 2000));
      const next = pending[0];
      if (next && Date.now() >= t0 + next.at * o.durationMs && (next.due ? await next.due(harness) : true)) {
        pending.shift();
        log(`chaos: scenario ${next.name} ...`);
        const began = Date.now();
        scenarios[next.name] = await next.run(harness);
        end += Date.now() - began;
        log(`chaos: scenario ${next.name}: ${scenarios[next.name]}`);
        continue;
      }
      const victims = [...readers.map((r) => r.name), 'batch-writer', 's3-uploader'];
      const victim = victims[Math.floor(random() * victims.length)];
      const reader = readers.find((r) => r.name === victim);
      if (reader) {
        await harness.stopReader(reader);
        harness.startReader(reader);
      } else {
        if (!services.has(victim as Service)) throw new Error(`chaos: no ${victim} to kill`);
        await pipeline.restart(victim as Service, 'SIGKILL');
        kills[victim]++;
      }
      log(`chaos: kill -9 ${victim}, restarted`);
      if (!redisDone && Date.now() > end - o.durationMs / 2) {
        redisDone = true;
        await redis.stop(true);
        redis = await RedisServer.start({ port: redisPort, dir: redisDir });
        redisRestarts++;
        log('chaos: redis restarted on its AOF');
        // After Redis is back, so the uploads resuming meet it; and at least the next 5 requests,
        // should none come within the window (a slow source).
        proxy.failFor(2500, 503);
        proxy.failNext(5, 503);
        log('chaos: S3 answers 503 for 2.5 s and at least 5 requests');
      }
    }
    // Scenarios the window was too short for still run: each is part of the proof.
    for (const s of pending) {
      if (s.due) await eventually(`${s.name} to be due`, () => s.due!(harness), 180_000, 100);
      log(`chaos: scenario ${s.name} (after the window) ...`);
      scenarios[s.name] = await s.run(harness);
      log(`chaos: scenario ${s.name}: ${scenarios[s.name]}`);
    }

    // Settle: every service up, the source done, the checkpoint reaches the last event.
    for (const [app, p] of services) if (!p.running) pipeline.startService(app);
    for (const r of readers) if (!r.process.running) harness.startReader(r);
    const expected = await source.expectedEvents();
    log(`chaos: the source is done: ${expected} events; waiting for the checkpoint`);
    let statuses: (ReaderStatus | undefined)[] = [];
    await eventually(
      'the pipeline to settle',
      async () => {
        statuses = await Promise.all(readers.map((r) => r.status()));
        const stuck = statuses.find((s) => s?.state === 'history_lost');
        if (stuck) throw new Error('a reader reports history lost');
        return Math.max(...statuses.map((s) => s?.checkpointSeq ?? 0)) >= expected;
      },
      180_000,
      250,
    ).catch(async (err: Error) => {
      // What the services were doing and what the lake lacks, for whoever reads the failure.
      const tail = (p: ServiceProcess) => p.tail(15).split('\n').join('\n    ');
      const story = (r: ReaderReplica) =>
        `${history.get(r.name) ?? ''}${r.process.output}`
          .split('\n')
          .filter((l) => /resum|lease|generation|history|fenc|lost|error|warn|restarted|"level":"(info|warn|error|fatal)"/i.test(l))
          .slice(-40)
          .join('\n    ');
      const readersNow = readers.map((r, i) => `${r.name}: ${JSON.stringify(statuses[i])}\n    ${story(r)}`);
      const others = [...services].map(([app, p]) => `${app} (${p.running ? 'running' : 'exited'}):\n    ${tail(p)}`);
      const lake = await pipeline!.lake(async (client, bucket, prefix) => source.diagnose?.(client, bucket, prefix)).catch((e: Error) => [`(diagnosis failed: ${e.message})`]);
      const queues = await pipelineState(redis.url).catch((e: Error) => [`(queue state unreadable: ${e.message})`]);
      throw new Error(`${err.message} (expected ${expected} events)\n  ${[...readersNow, ...others, ...queues, ...(lake ?? [])].join('\n  ')}`);
    });
    const keys = new Redis(redis.url);
    try {
      return await pipeline.lake(async (client, bucket, prefix) => {
        const reports = await verifyLake(client, bucket, prefix);
        const [report] = reports;
        if (!report) throw new Error('no Runnel object under chaos/ at all: every event was lost');
        // Lost: gaps below the highest seq stored, plus anything above it that never arrived.
        const lost = reports.reduce((s, r) => s + r.missing, 0) + Math.max(0, expected - report.maxSeq);
        const duplicated = reports.reduce((s, r) => s + r.duplicates, 0);
        const bodies = async () => (await keys.keys('*:batch-body:*')).length + (await keys.keys('*:body:*')).length;
        const leftoverBodies = await eventually('the last bodies to be deleted', async () => (await bodies()) === 0, 5_000).then(() => 0, () => bodies());
        const sourceCheck = await source.check(client, bucket, prefix);
        return { source: source.name, kills, redisRestarts, s3FailedRequests: proxy.failed, expected, report, reports, lost, duplicated, leftoverBodies, scenarios, sourceCheck };
      });
    } finally {
      keys.disconnect();
    }
  } finally {
    await pipeline?.stop('SIGKILL');
    await source.stop().catch(() => undefined);
    await proxy.stop();
    await s3.stop();
    await redis.stop();
  }
}

/** The report's lines (the CLI prints them; a failing spec shows them). */
export function describeChaos(r: ChaosReport): string[] {
  return [
    `source: ${r.source}; kills: ${JSON.stringify(r.kills)}; redis restarts: ${r.redisRestarts}; S3 requests failed on purpose: ${r.s3FailedRequests}`,
    ...Object.entries(r.scenarios).map(([k, v]) => `scenario ${k}: ${v}`),
    `lake: ${r.reports.reduce((s, x) => s + x.objects, 0)} objects, ${r.reports.reduce((s, x) => s + x.events, 0)} events of ${r.expected}` +
      ` in ${r.reports.length} stream(s) ${r.reports.map((x) => x.stream).join(', ')}; lost ${r.lost}; duplicated ${r.duplicated}`,
    `redis: ${r.leftoverBodies} batch/object bodies left over (expire after 7 days)`,
    ...r.sourceCheck.lines,
  ];
}

/**
 * Where a stuck pipeline stands, for a settle failure's message: each queue's job counts and the
 * checkpoint's pending batch records (the first one is what holds the checkpoint back).
 */
export async function pipelineState(redisUrl: string): Promise<string[]> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const lines: string[] = [];
    for (const name of Object.values(QUEUES)) {
      const queue = new Queue(name, { connection, prefix: DEFAULT_PREFIX });
      lines.push(`queue ${name}: ${JSON.stringify(await queue.getJobCounts())}`);
      await queue.close();
    }
    const store = new CheckpointStore(connection, { prefix: DEFAULT_PREFIX, ttlMs: 0 });
    const marker = `${DEFAULT_PREFIX}:ckpt:`;
    for (const key of await connection.keys(`${marker}*:pending`)) {
      const stream = key.slice(marker.length, -':pending'.length);
      const records = await store.records(stream);
      lines.push(`${stream}: checkpoint ${JSON.stringify(await store.load(stream))}; ${records.length} pending batch records, first: ${JSON.stringify(records.slice(0, 3))}`);
    }
    return lines;
  } finally {
    connection.disconnect();
  }
}
