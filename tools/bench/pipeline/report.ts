import { f0, f1, f2, type MachineFacts, mean, PIPELINE_SERVICES as SERVICES, table } from '@runnel/testing';
import type { BaselineResult } from './baseline';
import { DIST, type Options, serviceNodeArgs } from './options';
import type { PipelineResult } from './pipeline-run';

/** A progress line. */
export const log = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);

/** End to end vs bare BullMQ (1000 events/job), per config. */
export const TARGETS = { 'jsonl+zstd': 0.8, 'parquet+zstd': 0.5 } as Record<string, number>;
const RSS_TARGET_MIB = 256;
/** The processes whose CPU per event the summaries add up (the stand-in's own as mongo). */
const PROCS = ['change-reader', 'batch-writer', 's3-uploader', 'redis', 's3rver', 'mongo'];

/**
 * One row per variant and config over its rounds: events/s of each run, mean and spread, and mean CPU µs
 * per event per process (the stand-in's own CPU as "mongo"). Undefined when there is one variant and one round.
 */
function sourceSummary(pipeline: PipelineResult[]): string | undefined {
  const groups = new Map<string, PipelineResult[]>();
  for (const p of pipeline) groups.set(p.name, [...(groups.get(p.name) ?? []), p]);
  if (groups.size === new Set(pipeline.map((p) => p.config)).size && [...groups.values()].every((g) => g.length === 1)) return undefined;
  const rows: (string | number)[][] = [['variant', 'runs: events/s', 'mean events/s', 'spread', ...PROCS.map((p) => `µs/event ${p}`), 'µs/event all', 'other CPU (max)', 'lake exact']];
  for (const [name, runs] of groups) {
    const rates = runs.map((r) => r.eventsPerSec);
    const us = (k: string) => (runs.every((r) => r.cpuUsPerEvent[k] !== undefined) ? mean(runs.map((r) => r.cpuUsPerEvent[k])) : Number.NaN);
    const all = mean(runs.map((r) => PROCS.reduce((sum, k) => sum + (r.cpuUsPerEvent[k] ?? 0), 0)));
    rows.push([
      name,
      rates.map(f0).join(' / '),
      f0(mean(rates)),
      rates.length > 1 ? `${f0(((Math.max(...rates) - Math.min(...rates)) / mean(rates)) * 100)}%` : '–',
      ...PROCS.map((k) => f1(us(k))),
      f1(all),
      f2(Math.max(...runs.map((r) => r.cpu.otherCores))),
      runs.every((r) => r.lake.exact) ? 'yes' : 'NO',
    ]);
  }
  return ['By variant (each run of the pipeline phase; spread = (max − min) / mean; µs/event = CPU seconds of the process over the run / N):', table(rows)].join('\n');
}


/** Per config, the snapshot variants against the stand-in streaming the same documents (means over rounds). */
export function snapshotRatios(pipeline: PipelineResult[]): { config: string; label: string; snapshot: PipelineResult[]; streaming: PipelineResult[]; ratio: number; cpuRatio: number }[] {
  const out: { config: string; label: string; snapshot: PipelineResult[]; streaming: PipelineResult[]; ratio: number; cpuRatio: number }[] = [];
  const allUs = (r: PipelineResult) => PROCS.reduce((sum, k) => sum + (r.cpuUsPerEvent[k] ?? 0), 0);
  for (const config of new Set(pipeline.map((p) => p.config))) {
    const streaming = pipeline.filter((p) => p.config === config && p.variant.source === 'standin');
    for (const label of new Set(pipeline.filter((p) => p.config === config && p.variant.source === 'standin-snapshot').map((p) => p.variant.label))) {
      const snapshot = pipeline.filter((p) => p.config === config && p.variant.label === label);
      const ratio = streaming.length ? mean(snapshot.map((p) => p.eventsPerSec)) / mean(streaming.map((p) => p.eventsPerSec)) : Number.NaN;
      const cpuRatio = streaming.length ? mean(snapshot.map(allUs)) / mean(streaming.map(allUs)) : Number.NaN;
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
    const us = (k: string) => (runs.every((p) => p.cpuUsPerEvent[k] !== undefined) ? mean(runs.map((p) => p.cpuUsPerEvent[k])) : Number.NaN);
    const digests = [...new Set(runs.map((p) => p.lakeDocuments?.digest ?? '–'))];
    const snapRate = runs.flatMap((p) => (p.snapshot ? [p.snapshot.rowsPerSec] : []));
    return [
      config,
      label,
      runs.map((p) => f0(p.eventsPerSec)).join(' / '),
      f0(mean(runs.map((p) => p.eventsPerSec))),
      vs,
      ...PROCS.map((k) => f1(us(k))),
      f1(mean(runs.map((p) => PROCS.reduce((sum, k) => sum + (p.cpuUsPerEvent[k] ?? 0), 0)))),
      cpuVs,
      snapRate.length ? snapRate.map(f0).join(' / ') : '–',
      [...new Set(runs.map((p) => p.objects))].join('/'),
      f0(mean(runs.map((p) => p.meanBatchEvents))),
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
    const rowsPerSec = mean(r.snapshot.map((p) => p.eventsPerSec));
    const eventsPerSec = r.streaming.length ? mean(r.streaming.map((p) => p.eventsPerSec)) : Number.NaN;
    const detail = r.streaming.length
      ? `${f2(r.ratio)}× (${f0(rowsPerSec)} rows/s vs ${f0(eventsPerSec)} events/s, ${r.snapshot.length} and ${r.streaming.length} run(s)); CPU per row ${f2(r.cpuRatio)}× per event; same documents: ${same ? 'yes' : 'NO'}`
      : 'no standin run to compare with (--sources=standin,standin-snapshot)';
    lines.push(`target: snapshot >= 1.0x streaming (${r.config}, ${r.label}): ${detail} — ${r.streaming.length && r.ratio >= 1 && same ? 'met' : 'NOT MET'}`);
    targets.push({ name: `${r.config} ${r.label} ≥ 1.0× streaming the same documents`, met: r.streaming.length > 0 && r.ratio >= 1 && same, detail });
  }
  return { text: lines.join('\n'), targets };
}

export function report(opts: Options, m: MachineFacts, baseline: BaselineResult[], pipeline: PipelineResult[]): { text: string; targets: { name: string; met: boolean; detail: string }[] } {
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
    lines.push('', `Pipeline (${opts.count.toLocaleString('en-US')} events, SYNTHETIC_DOC_BYTES=${opts.docBytes}, BATCH_SIZE=${opts.batchSize}, BATCH_TIMEOUT_MS=${opts.batchTimeoutMs}, CHANNEL_BUFFER_SIZE=${opts.buffer}, batch-writer NUM_WORKERS=${opts.writerWorkers}, s3-uploader NUM_WORKERS=${opts.uploaderWorkers}, node flags ${SERVICES.map((s) => `${s} "${serviceNodeArgs(opts, s).join(' ')}"`).join(', ')}${opts.dist !== DIST ? `, services from ${opts.dist}` : ''}, s3rver with S3_CONDITIONAL_WRITES=false):`);
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

/** One line per measurement attempt, as it ends. */
export function logPipelineAttempt(a: PipelineResult): void {
  log(
    `pipeline: ${a.name}: ${f0(a.eventsPerSec)} events/s in ${f2(a.seconds)} s; lake ${a.lake.exact ? 'exact' : 'NOT EXACT'} (${a.lake.objects} objects); ` +
      `CPU reader ${f2(a.cpu.cores['change-reader'])} writer ${f2(a.cpu.cores['batch-writer'])} uploader ${f2(a.cpu.cores['s3-uploader'])} redis ${f2(a.cpu.cores.redis)} s3rver ${f2(a.cpu.cores.s3rver)}${a.cpu.cores.mongo === undefined ? '' : ` mongo ${f2(a.cpu.cores.mongo)}`} other ${f2(a.cpu.otherCores)}; ` +
      `peak RSS ${SERVICES.map((s) => f0(Math.max(a.peakRssMiB[s], a.hwmMiB[s]))).join('/')} MiB` +
      (a.lakeDocuments ? `; lake by operation ${JSON.stringify(a.lakeDocuments.operations)}, documents digest ${a.lakeDocuments.digest}` : '') +
      (a.snapshot ? `; snapshot (chunk ${a.snapshot.chunkSize}, parallelism ${a.snapshot.parallelism}): ${a.snapshot.rows} rows emitted ${f2(a.snapshot.firstRowS)}–${f2(a.snapshot.rowsDoneS)} s, ${f0(a.snapshot.rowsPerSec)} rows/s in the reader, phase at the end ${a.snapshot.phaseAtEnd}` : ''),
  );
}
