import { f0, f2, PIPELINE_SERVICES as SERVICES, table } from '@runnel/testing';
import type { Options } from './options';
import { pipelineOnce } from './pipeline-run';
import { quietest } from './quietest';
import { log } from './report';

/** The sweep phase: one setting at a time around the defaults. */
export async function sweepPhase(opts: Options): Promise<{ rows: Record<string, unknown>[]; text: string }> {
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
