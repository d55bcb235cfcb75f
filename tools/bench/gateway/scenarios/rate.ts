// Fixed rate: the gateway at --rate req/s with autocannon overallRate, the same against the bare
// servers as controls, and an evenly paced open-loop generator against the gateway and bare LangChain.
import type { AutocannonSummary, LoadClient, Measured, PacedSummary } from '../load-client';
import type { BenchOptions } from '../options';
import { gatewayMetrics, type Server } from '../servers';
import { log } from '../workload';

export interface RuntimeStats {
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  gc: Record<string, { count: number; totalMs: number; over10ms: number }>;
}

/**
 * The gateway's own view of a run, from its /metrics before and after: event-loop stalls (prom-client's
 * monitorEventLoopDelay, reset at every scrape, 10 ms resolution) and GC time by kind.
 */
async function withRuntimeStats<T extends object>(gateway: Server, fn: () => Promise<T>): Promise<T & { runtime: RuntimeStats }> {
  const before = await gatewayMetrics(gateway); // also resets the event-loop delay histogram
  const result = await fn();
  const after = await gatewayMetrics(gateway);
  const gc: RuntimeStats['gc'] = {};
  for (const kind of ['minor', 'major', 'incremental', 'weakcb']) {
    const delta = (series: string) => (after[series] ?? 0) - (before[series] ?? 0);
    const count = delta(`nodejs_gc_duration_seconds_count{kind="${kind}"}`);
    if (count > 0) {
      const over10ms = count - delta(`nodejs_gc_duration_seconds_bucket{le="0.01",kind="${kind}"}`);
      gc[kind] = { count, totalMs: delta(`nodejs_gc_duration_seconds_sum{kind="${kind}"}`) * 1000, over10ms };
    }
  }
  return { ...result, runtime: { eventLoopDelayP99Ms: after.nodejs_eventloop_lag_p99_seconds * 1000, eventLoopDelayMaxMs: after.nodejs_eventloop_lag_max_seconds * 1000, gc } };
}

export function describeRuntime(rt: RuntimeStats | undefined): string {
  if (!rt) return '';
  const gc = Object.entries(rt.gc)
    .map(([k, v]) => `${k} ${v.count}x/${v.totalMs.toFixed(0)} ms${v.over10ms ? ` (${v.over10ms} >10 ms)` : ''}`)
    .join(', ');
  return `gateway event-loop delay p99 ${rt.eventLoopDelayP99Ms.toFixed(1)} ms max ${rt.eventLoopDelayMaxMs.toFixed(1)} ms (10 ms sampling); GC ${gc || 'none'}`;
}

export type PacedRun = Measured<PacedSummary> & { runtime?: RuntimeStats };
export interface RateResult {
  autocannon: Measured<AutocannonSummary> & { runtime: RuntimeStats };
  controls: Record<string, Measured<AutocannonSummary>>;
  paced: PacedRun;
  pacedBareLangchain: PacedRun;
}

export async function ratePhase(load: LoadClient, opts: BenchOptions, gateway: Server, bareLc: Server, controls: Server[]): Promise<RateResult> {
  log(`fixed rate: gateway at ${opts.rate} req/s, autocannon overallRate, ${opts.rateConnections} connections, ${opts.rateDuration} s`);
  const atRate = { duration: opts.rateDuration, connections: opts.rateConnections, overallRate: opts.rate };
  const auto = await withRuntimeStats(gateway, () => load.autocannon(gateway, atRate));
  const l = auto.latencyMs;
  log(`fixed rate (autocannon): ${auto.reqPerSec.toFixed(0)} req/s  p50 ${l.p50} ms  p99 ${l.p99} ms  p99.9 ${l.p99_9} ms  max ${l.max} ms  non2xx ${auto.non2xx}; ${describeRuntime(auto.runtime)}`);
  const out: Partial<RateResult> & Pick<RateResult, 'controls'> = { autocannon: auto, controls: {} };
  // The same autocannon settings against the bare servers: autocannon's rate limiting sends each
  // connection's per-second quota back to back and then idles, so its tail is partly the generator's.
  for (const server of controls) {
    const c = await load.autocannon(server, atRate);
    const cl = c.latencyMs;
    log(`fixed rate (autocannon, control ${server.name}): ${c.reqPerSec.toFixed(0)} req/s  p50 ${cl.p50} ms  p99 ${cl.p99} ms  p99.9 ${cl.p99_9} ms  max ${cl.max} ms`);
    out.controls[server.name] = c;
  }
  for (const [key, server] of [
    ['paced', gateway],
    ['pacedBareLangchain', bareLc],
  ] as const) {
    log(`fixed rate: ${server.name} at ${opts.rate} req/s, evenly paced open loop (node:http client), ${opts.rateDuration} s`);
    const paced = () => load.paced(server, opts.rate, opts.rateDuration);
    const r: PacedRun = server.kind === 'gateway' ? await withRuntimeStats(server, paced) : await paced();
    const sv = r.serviceMs;
    log(
      `fixed rate (paced, ${server.name}): ${r.achievedRate.toFixed(0)} req/s  p50 ${sv.p50.toFixed(2)} ms  p99 ${sv.p99.toFixed(2)} ms  p99.9 ${sv.p99_9.toFixed(2)} ms  max ${sv.max.toFixed(2)} ms  ` +
        `(from schedule: p99 ${r.scheduledMs.p99.toFixed(2)} ms)  errors ${r.errors}  other CPU ${r.cpu.otherCores.toFixed(2)} cores${r.runtime ? `; ${describeRuntime(r.runtime)}` : ''}`,
    );
    out[key] = r;
  }
  return out as RateResult;
}
