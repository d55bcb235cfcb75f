// The printed report: a Markdown table per target and scenario (the rounds pooled: runs/s = runs / time;
// percentiles over all samples), then the gateway/reference ratios against the targets.
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { percentile } from '@runnel/testing';
import type { Measurement, Target } from './measure';
import type { AgentsOptions, Scenario } from './options';

export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const ms1 = (x: number) => x.toFixed(1);

export function report(opts: AgentsOptions, results: Measurement[], scenarios: Scenario[], targets: Target[]): void {
  const cpuInfo = cpus();
  console.log(`\nmachine: ${cpuInfo.length} vCPU (${cpuInfo[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; loadavg at the end ${loadavg()}`);
  console.log(`--duration=${opts.duration} --concurrency=${opts.concurrency} --rounds=${opts.rounds} --min-samples=${opts.minSamples}; the gateway: ${opts.gatewayMain}\n`);
  const head = '| target | scenario | runs | errors | runs/s (per round) | p50 ms | p99 ms | first event p50 ms | server CPU µs/run | PostgreSQL µs/run | Redis µs/run | client µs/run | server write syscalls/run | other CPU (cores) |';
  console.log(head);
  console.log(head.replace(/[^|]+/g, '---'));
  const agg = new Map<string, { rps: number; p50: number; p99: number }>();
  const label = (s: Scenario) => s.key.replace('-N', `-${opts.concurrency}`);
  for (const s of scenarios) {
    for (const t of targets) {
      const ms = results.filter((r) => r.target === t.name && r.scenario === s.key);
      if (!ms.length) continue;
      const runs = ms.reduce((a, m) => a + m.runs, 0);
      const errors = ms.reduce((a, m) => a + m.errors, 0);
      const secs = ms.reduce((a, m) => a + m.seconds, 0);
      const lat = ms.flatMap((m) => m.latencies);
      const first = ms.flatMap((m) => m.firstEvent);
      const per = (k: string) => ((ms.reduce((a, m) => a + (m.cpu[k] ?? 0), 0) / runs) * 1e6).toFixed(0);
      const other = ms.map((m) => m.otherCores.toFixed(2)).join(' / ');
      const rps = runs / secs;
      agg.set(`${t.name}/${s.key}`, { rps, p50: percentile(lat, 50), p99: percentile(lat, 99) });
      const isGw = t.name === 'gateway';
      console.log(
        `| ${t.name} | ${label(s)} | ${runs} | ${errors} | ${rps.toFixed(1)} (${ms.map((m) => (m.runs / m.seconds).toFixed(1)).join(' / ')}) | ${ms1(percentile(lat, 50))} | ${ms1(percentile(lat, 99))} | ${first.length ? ms1(percentile(first, 50)) : '–'} | ${per('server')} | ${isGw ? per('postgres') : '–'} | ${isGw ? per('redis') : '–'} | ${per('client')} | ${(ms.reduce((a, m) => a + m.sys.writesPerRun * m.runs, 0) / runs).toFixed(1)} | ${other} |`,
      );
    }
  }
  if (targets.length < 2) return;
  console.log('\n| scenario | runs/s gateway / reference | target ≥ 20× | gateway p99 vs reference p50 | target p99 < ref p50 |');
  console.log('|---|---|---|---|---|');
  for (const s of scenarios) {
    const g = agg.get(`gateway/${s.key}`);
    const r = agg.get(`reference/${s.key}`);
    if (!g || !r) continue;
    const ratio = g.rps / r.rps;
    console.log(`| ${label(s)} | ${ratio.toFixed(1)}× (${g.rps.toFixed(1)} vs ${r.rps.toFixed(1)}) | ${ratio >= 20 ? 'met' : '**not met**'} | ${ms1(g.p99)} ms vs ${ms1(r.p50)} ms | ${g.p99 < r.p50 ? 'met' : '**not met**'} |`);
  }
}
