import os from 'node:os';
import { verifyLake } from '@runnel/lake';
import { CpuMeter, eventually, PIPELINE_SERVICES, PipelineUnderTest, procRssMiB } from '@runnel/testing';
import { allPass, type CriterionResult, evaluatePipeline } from './criteria';
import { imageNodeArgs } from '../docker/image-build-args';
import { STOP_GRACE_MS } from './gateway-under-test';
import type { PipelineScenario } from './scenarios';

const APPS = PIPELINE_SERVICES;
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

const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** The reader's progress and the batches queue's backlog, from its /ready. */
async function readerState(pipeline: PipelineUnderTest): Promise<{ readSeq: number; checkpointSeq: number; batchesWaiting: number }> {
  const ready = await pipeline.readerReady();
  if (!ready?.reader) throw new Error('change-reader: no /ready answer');
  const batches = Object.entries(ready.queues).find(([name]) => name.includes('batch'))?.[1] ?? {};
  return { readSeq: ready.reader.read_seq ?? 0, checkpointSeq: ready.reader.checkpoint_seq ?? 0, batchesWaiting: (batches.waiting ?? 0) + (batches.prioritized ?? 0) };
}

/**
 * The three built pipeline services against a real redis-server and s3rver, the synthetic source at a
 * fixed rate for the duration; lag and RSS sampled on a fixed period; then drained and the lake checked.
 */
export async function runPipelineSoak(scenario: PipelineScenario, settings: PipelineSettings, log: (line: string) => void = () => undefined): Promise<PipelineReport> {
  const events = Math.round(settings.rate * settings.durationS);
  const startedAt = new Date().toISOString();
  const before = loadAvg();
  const nodeOptions = Object.fromEntries(APPS.map((a) => [a, imageNodeArgs(a).join(' ')])) as Record<App, string>;
  const pipeline = await PipelineUnderTest.create({
    s3Prefix: 'soak',
    env: { SHUTDOWN_TIMEOUT: '5' },
    reader: { SYNTHETIC_RATE: String(settings.rate), SYNTHETIC_COUNT: String(events), SYNTHETIC_DOC_BYTES: String(scenario.docBytes) },
    nodeArgs: (app) => imageNodeArgs(app),
  });
  try {
    for (const app of ['batch-writer', 's3-uploader'] as const) pipeline.startService(app);
    for (const app of ['batch-writer', 's3-uploader'] as const) await pipeline.ready(app);
    log(`pipeline-soak: writer and uploader ready; starting the reader: ${events} events at ${settings.rate}/s`);
    pipeline.startService('change-reader');
    // The source paces itself from its first event; estimate that moment from the first read_seq seen.
    const firstRead = await eventually(
      'the reader to read',
      async () => {
        const r = await readerState(pipeline);
        return r.readSeq > 0 ? r : undefined;
      },
      30_000,
      50,
      [...pipeline.services.values()],
    );
    const sourceStart = Date.now() - (firstRead.readSeq / settings.rate) * 1000;
    const elapsed = () => (Date.now() - sourceStart) / 1000;
    const samples: PipelineSample[] = [];
    const pids = pipeline.pids();
    let meter = new CpuMeter(pids);
    const sample = async () => {
      pipeline.assertRunning();
      const { readSeq, checkpointSeq, batchesWaiting } = await readerState(pipeline);
      const t = elapsed();
      const cpu = meter.read();
      meter = new CpuMeter(pids);
      const s: PipelineSample = {
        t,
        due: Math.min(events, Math.floor(t * settings.rate)),
        readSeq,
        checkpointSeq,
        inFlight: readSeq - checkpointSeq,
        batchesWaiting,
        checkpointLagS: checkpointSeq >= events ? 0 : Math.max(0, t - checkpointSeq / settings.rate),
        rssMiB: Object.fromEntries(APPS.map((a) => [a, procRssMiB(pids[a])])) as Record<App, number>,
        cpuCores: Object.fromEntries(APPS.map((a) => [a, cpu.cores[a]])) as Record<App, number>,
      };
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
    await eventually('the checkpoint to reach the last event', async () => (await readerState(pipeline)).checkpointSeq >= events, 120_000, 250, [...pipeline.services.values()]);
    const drainS = (Date.now() - windowEnd) / 1000;
    const [r] = await pipeline.lake(verifyLake);
    const lake: PipelineReport['lake'] = r && { objects: r.objects, events: r.events, maxSeq: r.maxSeq, missing: r.missing + Math.max(0, events - r.maxSeq), duplicates: r.duplicates, badObjects: r.badObjects.length };
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
    await pipeline.stop('SIGTERM', STOP_GRACE_MS);
  }
}
