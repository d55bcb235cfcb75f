import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { verifyLake } from '@runnel/lake';
import { eventually, freePort, procCpuSeconds, procRssMiB, RedisServer, S3Server, ServiceProcess } from '@runnel/testing';
import { allPass, type CriterionResult, evaluatePipeline } from './criteria';
import { deployedNodeOptions, STOP_GRACE_MS } from './gateway-under-test';
import type { PipelineScenario } from './scenarios';

const APPS = ['change-reader', 'batch-writer', 's3-uploader'] as const;
type App = (typeof APPS)[number];

export interface PipelineSettings {
  rate: number;
  durationS: number;
  sampleEveryS: number;
}

export interface PipelineSample {
  t: number;
  /** Events the source should have produced by now at its rate. */
  due: number;
  readSeq: number;
  checkpointSeq: number;
  /** Read but not yet in S3 (read_seq − checkpoint_seq). */
  inFlight: number;
  /** Jobs waiting in the batches queue. */
  batchesWaiting: number;
  /** Now minus the time the checkpointed event was due, s: covers a reader falling behind the rate too. */
  checkpointLagS: number;
  rssMiB: Record<App, number>;
  /** CPU used since the previous sample, in cores. */
  cpuCores: Record<App, number>;
}

export interface PipelineReport {
  scenario: string;
  kind: 'pipeline';
  description: string;
  settings: PipelineSettings & { events: number; docBytes: number; nodeOptions: Record<App, string> };
  startedAt: string;
  loadAvg: { before: string; after: string };
  samples: PipelineSample[];
  /** From the end of the window until the checkpoint reached the last event, s. */
  drainS: number;
  lake?: { objects: number; events: number; maxSeq: number; missing: number; duplicates: number; badObjects: number };
  peakRssMiB: Record<App, number>;
  criteria: CriterionResult[];
  pass: boolean;
}

const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface ReaderDetail {
  state: string;
  read_seq: number;
  checkpoint_seq: number | null;
}

async function readerState(port: number): Promise<{ reader: ReaderDetail; batchesWaiting: number }> {
  const body = (await (await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(5000) })).json()) as {
    checks: { reader: { detail: ReaderDetail }; queues?: { detail?: Record<string, Record<string, number>> } };
  };
  const queues = body.checks.queues?.detail ?? {};
  const batches = Object.entries(queues).find(([name]) => name.includes('batch'))?.[1] ?? {};
  return { reader: body.checks.reader.detail, batchesWaiting: (batches.waiting ?? 0) + (batches.prioritized ?? 0) };
}

/**
 * The three built pipeline services against a real redis-server and s3rver, the synthetic source at a
 * fixed rate for the duration; lag and RSS sampled on a fixed period; then drained and the lake checked.
 */
export async function runPipelineSoak(scenario: PipelineScenario, settings: PipelineSettings, log: (line: string) => void = () => undefined): Promise<PipelineReport> {
  const events = Math.round(settings.rate * settings.durationS);
  const startedAt = new Date().toISOString();
  const before = loadAvg();
  const nodeOptions = Object.fromEntries(APPS.map((a) => [a, deployedNodeOptions(a)])) as Record<App, string>;
  const redis = await RedisServer.start();
  const s3 = await S3Server.start(['lake']);
  const services = new Map<App, ServiceProcess>();
  const ports = Object.fromEntries(await Promise.all(APPS.map(async (a) => [a, await freePort()]))) as Record<App, number>;
  const common = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT: '5' };
  const alive = () => {
    for (const [app, p] of services) if (!p.running) throw new Error(`${app} exited: ${(p.stderr || p.stdout).slice(-2000)}`);
  };
  try {
    services.set('batch-writer', new ServiceProcess('batch-writer', { ...common, NODE_OPTIONS: nodeOptions['batch-writer'], METRICS_PORT: String(ports['batch-writer']), S3_PREFIX: 'soak' }));
    services.set(
      's3-uploader',
      new ServiceProcess('s3-uploader', {
        ...common, NODE_OPTIONS: nodeOptions['s3-uploader'], METRICS_PORT: String(ports['s3-uploader']), S3_BUCKET: 'lake', AWS_ENDPOINT_URL_S3: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true', S3_CONDITIONAL_WRITES: 'false', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER',
      }),
    );
    for (const app of ['batch-writer', 's3-uploader'] as const) {
      await eventually(`${app} to be ready`, async () => (alive(), (await fetch(`http://127.0.0.1:${ports[app]}/ready`)).ok), 30_000);
    }
    log(`pipeline-soak: writer and uploader ready; starting the reader: ${events} events at ${settings.rate}/s`);
    services.set(
      'change-reader',
      new ServiceProcess('change-reader', {
        ...common, NODE_OPTIONS: nodeOptions['change-reader'], METRICS_PORT: String(ports['change-reader']), SOURCE: 'synthetic',
        SYNTHETIC_RATE: String(settings.rate), SYNTHETIC_COUNT: String(events), SYNTHETIC_DOC_BYTES: String(scenario.docBytes),
      }),
    );
    const reader = ports['change-reader'];
    // The source paces itself from its first event; estimate that moment from the first read_seq seen.
    const firstRead = await eventually(
      'the reader to read',
      async () => {
        alive();
        const { reader: r } = await readerState(reader);
        return r.read_seq > 0 ? r : undefined;
      },
      30_000,
      50,
    );
    const sourceStart = Date.now() - (firstRead.read_seq / settings.rate) * 1000;
    const elapsed = () => (Date.now() - sourceStart) / 1000;
    const samples: PipelineSample[] = [];
    const pidOf = (a: App) => services.get(a)?.child.pid ?? -1;
    let lastCpu = { at: Date.now(), s: Object.fromEntries(APPS.map((a) => [a, procCpuSeconds(pidOf(a))])) as Record<App, number> };
    const sample = async () => {
      alive();
      const { reader: r, batchesWaiting } = await readerState(reader);
      const t = elapsed();
      const checkpointSeq = r.checkpoint_seq ?? 0;
      const s: PipelineSample = {
        t,
        due: Math.min(events, Math.floor(t * settings.rate)),
        readSeq: r.read_seq,
        checkpointSeq,
        inFlight: r.read_seq - checkpointSeq,
        batchesWaiting,
        checkpointLagS: checkpointSeq >= events ? 0 : Math.max(0, t - checkpointSeq / settings.rate),
        rssMiB: Object.fromEntries(APPS.map((a) => [a, procRssMiB(pidOf(a))])) as Record<App, number>,
        cpuCores: {} as Record<App, number>,
      };
      const cpu = { at: Date.now(), s: Object.fromEntries(APPS.map((a) => [a, procCpuSeconds(pidOf(a))])) as Record<App, number> };
      for (const a of APPS) s.cpuCores[a] = (cpu.s[a] - lastCpu.s[a]) / ((cpu.at - lastCpu.at) / 1000);
      lastCpu = cpu;
      samples.push(s);
      log(
        `pipeline-soak: t=${t.toFixed(0).padStart(4)} s  due ${s.due}  read ${s.readSeq}  checkpoint ${s.checkpointSeq}  in flight ${s.inFlight}  batches waiting ${s.batchesWaiting}  ` +
          `checkpoint lag ${s.checkpointLagS.toFixed(1)} s  RSS ${APPS.map((a) => `${a} ${s.rssMiB[a].toFixed(0)}`).join(' / ')} MiB  CPU ${APPS.map((a) => s.cpuCores[a].toFixed(2)).join(' / ')} cores`,
      );
    };
    for (let k = 1; k * settings.sampleEveryS <= settings.durationS + 1e-9; k++) {
      await new Promise((r) => setTimeout(r, Math.max(0, sourceStart + k * settings.sampleEveryS * 1000 - Date.now())));
      await sample();
    }
    const windowEnd = Date.now();
    await eventually('the checkpoint to reach the last event', async () => (alive(), ((await readerState(reader)).reader.checkpoint_seq ?? 0) >= events), 120_000, 250);
    const drainS = (Date.now() - windowEnd) / 1000;
    const client = new S3Client(s3.clientConfig);
    let lake: PipelineReport['lake'];
    try {
      const [r] = await verifyLake(client, 'lake', 'soak/');
      if (r) lake = { objects: r.objects, events: r.events, maxSeq: r.maxSeq, missing: r.missing + Math.max(0, events - r.maxSeq), duplicates: r.duplicates, badObjects: r.badObjects.length };
    } finally {
      client.destroy();
    }
    const peakRssMiB = Object.fromEntries(APPS.map((a) => [a, Math.max(...samples.map((s) => s.rssMiB[a]).filter(Number.isFinite))])) as Record<App, number>;
    const last = samples.at(-1);
    const criteria = evaluatePipeline({ expectedEvents: events, checkpointLagEndS: last ? last.checkpointLagS : Number.NaN, peakRssMiB, lake });
    return {
      scenario: scenario.name,
      kind: 'pipeline',
      description: scenario.description,
      settings: { ...settings, events, docBytes: scenario.docBytes, nodeOptions },
      startedAt,
      loadAvg: { before, after: loadAvg() },
      samples,
      drainS,
      lake,
      peakRssMiB,
      criteria,
      pass: allPass(criteria),
    };
  } finally {
    await Promise.all([...services.values()].map((p) => p.stop('SIGTERM', STOP_GRACE_MS)));
    await s3.stop();
    await redis.stop();
  }
}
