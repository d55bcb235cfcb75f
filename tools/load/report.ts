import type { CriterionResult } from './criteria';
import type { HttpReport } from './http-load';
import type { PipelineReport } from './pipeline-soak';

/** Markdown table, so a report can go into docs/benchmarks.md as printed. */
export function table(rows: string[][]): string {
  const [head, ...body] = rows;
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** At most ~60 values of a series (every n-th, and the last), so a 10-minute soak stays readable. */
function thin(series: number[]): string {
  const every = Math.max(1, Math.ceil(series.length / 60));
  const picked = series.filter((_, i) => i % every === 0);
  if ((series.length - 1) % every !== 0) picked.push(series[series.length - 1]);
  return `${picked.join(' ')}${every > 1 ? ` (every ${every}th sample)` : ''}`;
}

const f0 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(0));
const f2 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(2));
const f1 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(1));

function criteriaTable(criteria: CriterionResult[]): string {
  return table([['criterion', 'limit', 'measured', 'result'], ...criteria.map((c) => [c.name, c.limit, c.actual, c.pass ? 'PASS' : '**FAIL**'])]);
}

export function formatHttpReport(r: HttpReport): string {
  const s = r.settings;
  const errorRate = r.attempts ? (r.errors.total / r.attempts) * 100 : Number.NaN;
  const lines = [
    `### ${r.scenario}: ${r.pass ? 'PASS' : 'FAIL'}`,
    '',
    `${r.description}. ${r.gateway}.`,
    `Settings: ${s.rate} req/s target (autocannon overallRate), ${s.connections} connections, ${s.durationS} s measured after ${s.warmupS} s warm-up; started ${r.startedAt}; load average before ${r.loadAvg.before}, after ${r.loadAvg.after}.`,
    '',
    table([
      ['requests', 'req/s achieved / target', 'errors (conn / timeout / non-2xx / incomplete)', 'error rate', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'RSS start / end / peak MiB', 'gateway CPU'],
      [
        String(r.attempts),
        `${f1(r.achievedRate)} / ${s.rate}`,
        `${r.errors.total} (${r.errors.connection} / ${r.errors.timeouts} / ${r.errors.non2xx} / ${r.errors.malformed})`,
        `${errorRate.toFixed(3)} %`,
        f1(r.latency.p50),
        f1(r.latency.p95),
        f1(r.latency.p99),
        f1(r.latency.max),
        r.rss ? `${f1(r.rss.startMiB)} / ${f1(r.rss.endMiB)} / ${f1(r.rss.peakMiB)}` : 'n/a',
        r.gatewayCpuCores === undefined ? 'n/a' : `${r.gatewayCpuCores.toFixed(2)} cores`,
      ],
    ]),
  ];
  if (Object.keys(r.perKind).length > 1) {
    lines.push(
      '',
      table([
        ['request', 'responses', '2xx complete', '2xx incomplete', 'p50 ms', 'p95 ms', 'p99 ms'],
        ...Object.entries(r.perKind).map(([name, k]) => [name, String(k.responses), String(k.ok), String(k.malformed), f1(k.latency.p50), f1(k.latency.p95), f1(k.latency.p99)]),
      ]),
    );
  }
  const codes = Object.entries(r.statusCodes).map(([c, n]) => `${c}: ${n}`).join(', ');
  lines.push('', `Status codes: ${codes || 'none'}.${r.gatewayCounted ? ` Gateway's own count (runnel_gateway_requests_total): ${Object.entries(r.gatewayCounted).map(([k, v]) => `${k}: ${v}`).join(', ')}.` : ''}`);
  if (r.heapUsed) lines.push(`V8 heap used start / end / peak: ${f1(r.heapUsed.startMiB)} / ${f1(r.heapUsed.endMiB)} / ${f1(r.heapUsed.peakMiB)} MiB (slope ${r.heapUsed.slopeMiBPerMin.toFixed(2)} MiB/min).`);
  if (s.rssGrowthBoundMiB !== undefined) {
    if (r.rss) lines.push(`RSS every ${s.rssEveryMs / 1000} s (MiB): ${thin(r.rss.seriesMiB)}`);
    if (r.heapUsed) lines.push(`V8 heap used every ${s.rssEveryMs / 1000} s (MiB): ${thin(r.heapUsed.seriesMiB)}`);
  }
  lines.push('', criteriaTable(r.criteria));
  return lines.join('\n');
}

export function formatPipelineReport(r: PipelineReport): string {
  const s = r.settings;
  const lines = [
    `### ${r.scenario}: ${r.pass ? 'PASS' : 'FAIL'}`,
    '',
    `${r.description}.`,
    `Settings: ${s.events} synthetic events at ${s.rate}/s for ${s.durationS} s (${s.docBytes}-byte documents, every other service setting at its default), sampled every ${s.sampleEveryS} s; ` +
      `redis-server (AOF everysec) and s3rver on loopback; services with their image's NODE_OPTIONS (${r.settings.nodeOptions['change-reader']}); ` +
      `started ${r.startedAt}; load average before ${r.loadAvg.before}, after ${r.loadAvg.after}.`,
    '',
    table([
      ['t (s)', 'due', 'read', 'checkpoint', 'in flight', 'batches waiting', 'checkpoint lag (s)', 'RSS reader / writer / uploader (MiB)', 'CPU reader / writer / uploader (cores)'],
      ...r.samples.map((x) => [f0(x.t), String(x.due), String(x.readSeq), String(x.checkpointSeq), String(x.inFlight), String(x.batchesWaiting), f1(x.checkpointLagS), `${f0(x.rssMiB['change-reader'])} / ${f0(x.rssMiB['batch-writer'])} / ${f0(x.rssMiB['s3-uploader'])}`,
        `${f2(x.cpuCores['change-reader'])} / ${f2(x.cpuCores['batch-writer'])} / ${f2(x.cpuCores['s3-uploader'])}`,
      ]),
    ]),
    '',
    `Drained (checkpoint = last event) ${f1(r.drainS)} s after the window; lake: ${r.lake ? `${r.lake.objects} objects, ${r.lake.events} events` : 'not read'}.`,
    '',
    criteriaTable(r.criteria),
  ];
  return lines.join('\n');
}
