import { CpuMeter, type CpuReading, f0, f2, RedisServer, RssPeaks } from '@runnel/testing';
import type { Options } from './options';
import { quietest } from './quietest';
import { log } from './report';
import { startRole } from './roles';

export interface BaselineResult {
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
  cpu: CpuReading;
  peakRssMiB: Record<string, number>;
}

/** Bare BullMQ: N events through a queue on a fresh redis-server, a producer adding them, a Worker doing nothing. */
async function baselineOnce(opts: Options, { jobSize, generate }: { jobSize: number; generate: boolean }): Promise<BaselineResult> {
  const redis = await RedisServer.start();
  const prefix = '{bench}';
  const common = { redisUrl: redis.url, prefix, count: opts.baselineCount };
  const worker = startRole('bullmq-worker', { ...common, concurrency: opts.baselineConcurrency });
  const producer = startRole('bullmq-producer', { ...common, jobSize, generate, chunkEvents: opts.chunkEvents, collections: opts.collections, docBytes: opts.docBytes });
  try {
    await worker.nextMessage('ready', 30_000);
    const ready = await producer.nextMessage('ready', 30_000);
    const rss = new RssPeaks({ producer: producer.pid, worker: worker.pid, redis: redis.pid });
    const done = worker.nextMessage('done', opts.timeoutS * 1000);
    const started = producer.nextMessage('started', 10_000);
    const added = producer.nextMessage('added', opts.timeoutS * 1000);
    const meter = new CpuMeter({ producer: producer.pid, worker: worker.pid, redis: redis.pid, bench: process.pid });
    producer.send({ type: 'go' });
    await started;
    const t0 = performance.now();
    const addedAt = added.then(() => performance.now());
    const result = await done;
    const t1 = performance.now();
    const cpu = meter.read();
    const peakRssMiB = await rss.stop();
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
      peakRssMiB,
    };
  } finally {
    for (const c of [producer, worker]) if (c.running) c.send({ type: 'stop' });
    await Promise.all([producer.stop('SIGTERM', 10_000), worker.stop('SIGTERM', 10_000)]);
    await redis.stop();
  }
}

/** The baseline phase: each --baseline job size, its quietest attempt. */
export async function baselinePhase(opts: Options): Promise<{ baseline: BaselineResult[]; baselineAttempts: BaselineResult[][] }> {
  const baseline: BaselineResult[] = [];
  const baselineAttempts: BaselineResult[][] = [];
  for (const b of opts.baseline) {
    const size = `${b.jobSize}${b.generate ? ' (generated)' : ''}`;
    log(`baseline: bare BullMQ, ${size} event(s)/job, ${opts.baselineCount} events, concurrency ${opts.baselineConcurrency} ...`);
    const { best, attempts } = await quietest(opts, `baseline ${size}/job`, () => baselineOnce(opts, b));
    baseline.push(best);
    baselineAttempts.push(attempts);
    for (const a of attempts) log(`baseline: ${size}/job: ${f0(a.eventsPerSec)} events/s in ${f2(a.seconds)} s (CPU producer ${f2(a.cpu.cores.producer)}, worker ${f2(a.cpu.cores.worker)}, redis ${f2(a.cpu.cores.redis)}, other ${f2(a.cpu.otherCores)})`);
  }
  return { baseline, baselineAttempts };
}
