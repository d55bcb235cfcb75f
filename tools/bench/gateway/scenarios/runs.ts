// A server's measured rounds, summarised: the throughput and lambda phases' table rows.
import { mean, percentile, sum } from '@runnel/testing';
import type { AutocannonSummary, Measured } from '../load-client';

export type Run = Measured<AutocannonSummary>;

export function summariseRuns(runs: Run[]) {
  const threadGroups = ['main', 'v8', 'libuv', 'other'] as const;
  return {
    runs: runs.length,
    reqPerSec: mean(runs.map((r) => r.reqPerSec)),
    reqPerSecMin: Math.min(...runs.map((r) => r.reqPerSec)),
    reqPerSecMax: Math.max(...runs.map((r) => r.reqPerSec)),
    p50: mean(runs.map((r) => r.latencyMs.p50)),
    p99: mean(runs.map((r) => r.latencyMs.p99)),
    p99Max: Math.max(...runs.map((r) => r.latencyMs.p99)),
    errors: sum(runs.map((r) => r.errors + r.timeouts)),
    non2xx: sum(runs.map((r) => r.non2xx)),
    mismatches: sum(runs.map((r) => r.mismatches)),
    serverCores: mean(runs.map((r) => r.cpu.serverCores)),
    // Server CPU time per request: less sensitive than req/s to other load on the machine. The server's
    // utime+stime over the runs divided by the requests they completed (not by req/s x wall time: the
    // measured wall time also holds autocannon's start-up and the IPC round trip).
    cpuUsPerReq: (sum(runs.map((r) => r.cpu.serverSeconds)) * 1e6) / sum(runs.map((r) => r.total)),
    // The best round: other load only ever adds CPU time (cache and core sharing), so on a busy machine this is the steadier figure.
    cpuUsPerReqMin: Math.min(...runs.map((r) => (r.cpu.serverSeconds * 1e6) / r.total)),
    // the same split by thread: the event loop, V8's helper threads (GC, compiler), libuv's pool, the rest
    cpuUsPerReqByThread: Object.fromEntries(threadGroups.map((g) => [g, (sum(runs.map((r) => r.cpu.serverThreads[g] ?? 0)) * 1e6) / sum(runs.map((r) => r.total))])) as Record<(typeof threadGroups)[number], number>,
    loadGenCores: mean(runs.map((r) => r.cpu.loadGenCores)),
    otherCoresMax: Math.max(...runs.map((r) => r.cpu.otherCores)),
  };
}
export type RunsSummary = ReturnType<typeof summariseRuns>;

/**
 * Gateway against bare round by round, as medians (nearest rank: percentile 50) of the per-round ratios: round i of each server runs
 * next to the other's round i (interleaved, or at once with --paired), so a round the machine slowed
 * down slows both and cancels in its own ratio, and one outlying round moves the median little.
 * CPU inverted (bare µs / gateway µs) so both read "1.0 = as fast as bare".
 */
export function roundRatios(gateway: Run[], bare: Run[]): { reqPerSec: number; cpu: number } {
  const n = Math.min(gateway.length, bare.length);
  const cpuPerReq = (r: Run) => (r.cpu.serverSeconds * 1e6) / r.total;
  const rounds = Array.from({ length: n }, (_, i) => i);
  return {
    reqPerSec: percentile(rounds.map((i) => gateway[i].reqPerSec / bare[i].reqPerSec), 50),
    cpu: percentile(rounds.map((i) => cpuPerReq(bare[i]) / cpuPerReq(gateway[i])), 50),
  };
}

/** One summary per server name. */
export function summariseEach(runs: Record<string, Run[]>): Record<string, RunsSummary> {
  return Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, summariseRuns(v)]));
}

/** One line of a round: req/s, latency, errors and CPU. */
export function describeRound(r: Run, badBody: string): string {
  return `${r.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${r.latencyMs.p50} ms  p99 ${r.latencyMs.p99} ms  errors ${r.errors + r.timeouts}  non2xx ${r.non2xx}  ${badBody} ${r.mismatches}`;
}

export function describeCpu(r: Run): string {
  return `cpu: server ${r.cpu.serverCores.toFixed(2)} loadgen ${r.cpu.loadGenCores.toFixed(2)} other ${r.cpu.otherCores.toFixed(2)} cores`;
}
