// The printed report: the machine, a table per phase, the targets. (Its numbers keep this bench's own
// formats, whole numbers without separators and '-' for what was not measured: docs/benchmarks.md
// quotes them.)
import { type MachineFacts, met, sum, table } from '@runnel/testing';
import type { BuildInfo } from './build';
import type { BenchOptions } from './options';
import type { LambdaResult } from './scenarios/lambda';
import type { ProfileResult } from './scenarios/profile';
import { describeRuntime, type RateResult } from './scenarios/rate';
import type { StreamsResult } from './scenarios/streams';
import type { ThroughputResult } from './scenarios/throughput';
import { BODY, LAMBDA_CHUNKS, LAMBDA_ENDPOINTS, TARGETS } from './workload';

export interface BenchResults {
  machine: MachineFacts;
  options: BenchOptions;
  startedAt: string;
  head?: string;
  build: BuildInfo;
  openFilesLimit?: { soft: number; hard: number };
  throughput?: ThroughputResult;
  rate?: RateResult;
  gatewayMetricsAfterLoad?: { rssMiB: number; inFlight: number };
  lambdaAlsoBuild?: BuildInfo & { gatewayMain: string };
  lambda?: LambdaResult;
  streams?: StreamsResult;
  profile?: ProfileResult;
  lambdaProfile?: ProfileResult;
  finishedAt?: string;
  loadAvgAtEnd?: number[];
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number | undefined) => (Number.isFinite(x) ? x!.toFixed(1) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');

export function report(results: BenchResults, opts: BenchOptions, argv: string[]): string {
  const lines: string[] = [];
  const m = results.machine;
  lines.push('', '=== Gateway benchmark ===');
  lines.push(
    `Machine: ${m.nproc} CPU (${m.cpuModel}${m.cpuMHz ? `, ${m.cpuMHz} MHz` : ''}), ${m.memoryGiB.toFixed(1)} GiB RAM, ${m.kernel}, Node ${m.node}` +
      `${m.cgroupCpuMax ? `, cgroup cpu.max ${m.cgroupCpuMax}` : ''}; load average at start ${m.loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}`,
  );
  lines.push(`Command: node_modules/.bin/node tools/dev/run-ts.mjs tools/bench/gateway/run.ts ${argv.join(' ')}`.trimEnd());
  const b = results.build;
  lines.push(`Gateway: ${b.commit ? `commit ${b.subject}` : b.gatewayMain ? b.gatewayMain : `working tree (${b.built ? 'built now' : 'existing build'}; HEAD ${results.head})`}`);
  const t = results.throughput;
  if (t) {
    lines.push('', `Throughput: POST /echo/invoke ${BODY}, ${opts.connections} connections, ${opts.duration} s x ${opts.rounds} rounds interleaved (after ${opts.warmup} s warm-up each); means of rounds`);
    const rows: (string | number)[][] = [['server', 'req/s', 'min', 'max', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'bad body', 'server CPU', 'CPU us/req', 'loadgen CPU', 'other CPU (max)']];
    for (const [name, s] of Object.entries(t.summary)) {
      rows.push([name, f0(s.reqPerSec), f0(s.reqPerSecMin), f0(s.reqPerSecMax), f1(s.p50), f1(s.p99), s.errors, s.non2xx, s.mismatches, f2(s.serverCores), f0(s.cpuUsPerReq), f2(s.loadGenCores), f2(s.otherCoresMax)]);
    }
    lines.push(table(rows));
    lines.push(`Ratios (req/s): gateway / bare-langchain = ${f2(t.ratios.gatewayOverBareLangchain)}   bare-langchain / bare-echo = ${f2(t.ratios.bareLangchainOverBareEcho)}   gateway / bare-echo = ${f2(t.ratios.gatewayOverBareEcho)}`);
    lines.push(`Ratios (server CPU per request, inverted): gateway vs bare-langchain = ${f2(t.ratios.cpuGatewayOverBareLangchain)}   bare-langchain vs bare-echo = ${f2(t.ratios.cpuBareLangchainOverBareEcho)}`);
    lines.push('  (server/loadgen/other CPU in cores: "other" is everything else on the machine during the run.)');
  }
  const la = results.lambda;
  if (la) {
    lines.push(
      '',
      `Lambda (issue 9): gateway with RUNNABLES_MODULE=lambda-runnables.cjs vs bare node:http serving the same runnables; ${BODY}, ` +
        `node flags: gateway [${opts.gatewayNodeArgs.join(' ')}], bare [${opts.lambdaBareNodeArgs.join(' ')}]; ` +
        (opts.paired
          ? `${Math.ceil(opts.connections / (la.gateways.length + 1))} connections per server, all servers loaded at once (--paired), ${opts.duration} s x ${opts.rounds} rounds (after ${opts.warmup} s warm-up); means of rounds; `
          : `${opts.connections} connections, ${opts.duration} s x ${opts.rounds} rounds interleaved (after ${opts.warmup} s warm-up each); means of rounds; `) +
        `CPU us/req = server utime+stime / completed requests`,
    );
    const rows: (string | number)[][] = [['endpoint', 'server', 'req/s', 'min', 'max', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'bad body', 'server CPU', 'CPU us/req', 'best round', 'loadgen CPU', 'other CPU (max)']];
    for (const endpoint of LAMBDA_ENDPOINTS) {
      for (const [name, x] of Object.entries(la[endpoint].summary)) {
        rows.push([la[endpoint].path, name, f0(x.reqPerSec), f0(x.reqPerSecMin), f0(x.reqPerSecMax), f1(x.p50), f1(x.p99), x.errors, x.non2xx, x.mismatches, f2(x.serverCores), f1(x.cpuUsPerReq), f1(x.cpuUsPerReqMin), f2(x.loadGenCores), f2(x.otherCoresMax)]);
      }
    }
    lines.push(table(rows));
    lines.push('CPU us/req by thread (event loop / V8 helper threads: GC, compiler / libuv pool / other):');
    for (const endpoint of LAMBDA_ENDPOINTS) {
      for (const [name, x] of Object.entries(la[endpoint].summary)) {
        const th = x.cpuUsPerReqByThread;
        lines.push(`  ${la[endpoint].path.padEnd(22)} ${name.padEnd(16)} main ${f1(th.main).padStart(6)}  v8 ${f1(th.v8).padStart(6)}  libuv ${f1(th.libuv).padStart(5)}  other ${f1(th.other).padStart(5)}`);
      }
    }
    for (const endpoint of LAMBDA_ENDPOINTS) {
      for (const [name, q] of Object.entries(la[endpoint].ratiosBy)) {
        lines.push(
          `Ratios ${endpoint.padEnd(6)} ${name} / bare: req/s ${f2(q.reqPerSec)}   CPU per request (bare us / gateway us) ${f2(q.cpu)}, best rounds ${f2(q.cpuBestRound)}   ` +
            `medians of the per-round ratios: req/s ${f2(q.reqPerSecRoundMedian)}, CPU ${f2(q.cpuRoundMedian)}   (gateway uses ${f2(q.cpuUsPerReqGatewayOverBare)}x the bare server's CPU per request)`,
        );
      }
    }
    if (la.gateways.length > 1) lines.push(`  (gateways: ${la.gateways.map((g) => `${g.name} = ${g.main}`).join('; ')})`);
    lines.push(`  (stream bodies: ${LAMBDA_CHUNKS} data frames + metadata + end, every body checked; ${la.streamBytes.gateway} bytes from the gateway, ${la.streamBytes.bare} from bare)`);
  }
  const r = results.rate;
  if (r) {
    const a = r.autocannon;
    const p = r.paced;
    const autoRow = (label: string, x: RateResult['autocannon'] | RateResult['controls'][string]) => {
      const l = x.latencyMs;
      return [label, f0(x.reqPerSec), l.p50, l.p99, l.p99_9, l.max, x.errors + x.timeouts, x.non2xx, f2(x.cpu.serverCores), f2(x.cpu.otherCores)];
    };
    const pacedRow = (label: string, x: RateResult['paced']) => {
      const s = x.serviceMs;
      const non2xx = sum(Object.entries(x.statusCodes).filter(([c]) => !c.startsWith('2')).map(([, v]) => v));
      return [label, f0(x.achievedRate), f2(s.p50), f2(s.p99), f2(s.p99_9), f2(s.max), x.errors, non2xx, f2(x.cpu.serverCores), f2(x.cpu.otherCores)];
    };
    lines.push('', `Fixed rate ${opts.rate} req/s on the gateway, ${opts.rateDuration} s:`);
    lines.push(
      table([
        ['server / generator', 'achieved req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors', 'non-2xx', 'server CPU', 'other CPU'],
        autoRow(`gateway, autocannon overallRate (${opts.rateConnections} conns)`, a),
        ...Object.entries(r.controls).map(([name, c]) => autoRow(`${name}, autocannon overallRate (control)`, c)),
        pacedRow('gateway, paced open loop', p),
        pacedRow('bare-langchain, paced open loop (control)', r.pacedBareLangchain),
      ]),
    );
    lines.push('  (autocannon records whole milliseconds; the paced generator measures microseconds from write to last byte.)');
    lines.push(`  gateway during autocannon: ${describeRuntime(a.runtime)}`);
    lines.push(`  gateway during paced:      ${describeRuntime(p.runtime)}`);
  }
  const s = results.streams;
  if (s) {
    const c = s.control;
    lines.push('', `Open streams: ${s.streams} concurrent POST /hold/stream (one chunk, then held open until the client goes):`);
    lines.push(
      table([
        ['', 'gateway', 'bare node:http + same runnable (control)'],
        ['streams with first data event', `${s.open.open}/${s.streams} (failed ${s.open.failed}) in ${f1(s.open.openMs / 1000)} s`, `${c.open.open}/${c.streams} (failed ${c.open.failed}) in ${f1(c.open.openMs / 1000)} s`],
        ['open streams (gateway: runnel_gateway_open_streams; control: held runs)', String(s.open.openNow), String(c.open.openNow)],
        ['RSS before (MiB)', f1(s.before.rssMiB), f1(c.before.rssMiB)],
        ['RSS with streams open (MiB)', `${f1(s.open.rssMiB)} (metric ${f1(s.open.metricRssMiB)}; VmHWM ${f1(s.open.hwmMiB)})`, f1(c.open.rssMiB)],
        ['  V8 heap used / total with streams open (MiB)', `${f1(s.open.heapUsedMiB)} / ${f1(s.open.heapTotalMiB)}`, '-'],
        ['RSS per stream (KiB, delta)', f1(s.perStreamKiB), f1(c.perStreamKiB)],
        ['after close: open streams', `${s.after.openNow} (in ${f0(s.after.dropMs)} ms)`, `${c.after.openNow} (in ${f0(c.after.dropMs)} ms)`],
        ['after close: runs released via AbortSignal', `${s.releasedBySignal}/${s.open.open}, still held ${s.after.hold.active}`, `${c.releasedBySignal}/${c.open.open}, still held ${c.after.hold.active}`],
        ['RSS after close (MiB)', f1(s.after.rssMiB), f1(c.after.rssMiB)],
      ]),
    );
  }
  lines.push('', 'Targets:');
  if (t) lines.push(`  gateway >= ${TARGETS.ratio}x bare LangChain server: ${f2(t.ratios.gatewayOverBareLangchain)}x  ${met(t.ratios.gatewayOverBareLangchain >= TARGETS.ratio)}`);
  if (la) {
    for (const endpoint of LAMBDA_ENDPOINTS) {
      const q = la[endpoint].ratios;
      const clean = Object.values(la[endpoint].summary).every((x) => x.errors === 0 && x.non2xx === 0 && x.mismatches === 0);
      lines.push(
        `  lambda ${endpoint.padEnd(6)} gateway >= ${TARGETS.ratio}x bare node:http: req/s ${f2(q.reqPerSec)}x  ${met(q.reqPerSec >= TARGETS.ratio && clean)}; ` +
          `by CPU per request ${f2(q.cpu)}x  ${met(q.cpu >= TARGETS.ratio)}; ` +
          `medians of the per-round ratios: req/s ${f2(q.reqPerSecRoundMedian)}x  ${met(q.reqPerSecRoundMedian >= TARGETS.ratio && clean)}, CPU ${f2(q.cpuRoundMedian)}x  ${met(q.cpuRoundMedian >= TARGETS.ratio)}` +
          `${clean ? '' : '  (errors, non-2xx or bad bodies: see the table)'}`,
      );
    }
  }
  if (r) {
    lines.push(`  p99 < ${TARGETS.p99Ms} ms at ${opts.rate} req/s (autocannon overallRate): p99 ${r.autocannon.latencyMs.p99} ms  ${met(r.autocannon.latencyMs.p99 < TARGETS.p99Ms && r.autocannon.non2xx === 0)}`);
    lines.push(`  p99 < ${TARGETS.p99Ms} ms at ${opts.rate} req/s (evenly paced):        p99 ${f2(r.paced.serviceMs.p99)} ms  ${met(r.paced.serviceMs.p99 < TARGETS.p99Ms && r.paced.errors === 0)}`);
  }
  if (s) {
    lines.push(
      `  ${s.streams} open streams under ${TARGETS.streamsRssMiB} MiB RSS: ${f1(s.open.rssMiB)} MiB  ${met(s.open.open === s.streams && s.open.rssMiB < TARGETS.streamsRssMiB)}; ` +
        `all closed: ${met(s.after.openNow === 0 && s.after.hold.active === 0)}`,
    );
  }
  const others = [
    ...(t ? Object.values(t.summary).map((x) => x.otherCoresMax) : []),
    ...(la ? LAMBDA_ENDPOINTS.flatMap((e) => Object.values(la[e].summary).map((x) => x.otherCoresMax)) : []),
    ...(r ? [r.autocannon, ...Object.values(r.controls), r.paced, r.pacedBareLangchain].map((x) => x.cpu.otherCores) : []),
  ];
  if (others.some((x) => x > 0.25)) {
    lines.push('', `Note: other processes used up to ${f2(Math.max(...others))} cores during some runs (columns "other CPU"); those figures are noisy, rerun when the machine is quiet.`);
  }
  return lines.join('\n');
}
