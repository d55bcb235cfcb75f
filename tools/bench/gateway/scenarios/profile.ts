// CPU profile: the gateway and its bare control each run under `node --cpu-prof` during a load run; the
// measured window of each load is summarised (profile-summary.ts) and the gateway compared to its control.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@runnel/testing';
import type { LoadClient } from '../load-client';
import type { BenchOptions } from '../options';
import { compareProfiles, formatComparison, formatProfileSummary, type FunctionTimes, type ProfileComparison, type ProfileSummary, summariseProfile } from '../profile-summary';
import { type Server, type ServerCode, startBare, startGateway, startLambdaBare, startLambdaGateway, stopServer } from '../servers';
import { ECHO_LOAD, LAMBDA_LOADS, type Load, log } from '../workload';

interface ProfileTarget {
  name: string;
  start(nodeArgs: string[]): Promise<Server>;
}
interface ProfiledWindow {
  file: string;
  path: string;
  reqPerSecUnderProfiler: number;
  requests: number;
  cpuUsPerReqUnderProfiler: number;
  summary: Omit<ProfileSummary, 'functions'>;
  /** Not in the results JSON (not enumerable). */
  functions?: FunctionTimes[];
}
export type ProfileResult = Record<string, ProfiledWindow> & { comparisons?: Record<string, ProfileComparison> };

/**
 * Runs each server under `node --cpu-prof` for one or more loads (warm-up, then the measured run) and
 * summarises the measured window of each load separately; start-up and warm-up are left out.
 */
async function profileServers(load: LoadClient, opts: BenchOptions, tmp: string, group: string, targets: ProfileTarget[], loads: Load[]): Promise<ProfileResult> {
  const windows: Record<string, ProfiledWindow> = {};
  for (const { name, start } of targets) {
    const dir = join(tmp, `profile-${group}-${name}`);
    const spawnedAt = performance.now();
    const server = await start(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const measured = [];
    for (const target of loads) {
      log(`profile (${group}): ${name} ${target.path} under --cpu-prof, ${opts.warmup} s warm-up + ${opts.duration} s load`);
      await load.autocannon(server, { duration: opts.warmup, connections: opts.connections, ...target });
      const fromMs = performance.now() - spawnedAt;
      const run = await load.autocannon(server, { duration: opts.duration, connections: opts.connections, ...target });
      measured.push({ target, fromMs, toMs: performance.now() - spawnedAt, run });
    }
    await stopServer(server, 15_000);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
    if (!files.length) {
      log(`profile: no .cpuprofile written for ${name}`);
      continue;
    }
    const file = join(dir, files[0]);
    for (const w of measured) {
      const key = loads.length === 1 ? name : `${name} ${w.target.path}`;
      const window = { fromMs: w.fromMs + 250, toMs: w.toMs - 250 };
      const summary = summariseProfile(file, { top: 25, repoRoot: REPO_ROOT, window, all: true });
      const cpuUsPerReq = (w.run.cpu.serverSeconds * 1e6) / w.run.total;
      // requests completed inside the summarised window (the run's rate times the window), for per-request figures
      const requests = w.run.total * ((window.toMs - window.fromMs) / (w.toMs - w.fromMs));
      const { functions, ...kept } = summary;
      windows[key] = { file, path: w.target.path, reqPerSecUnderProfiler: w.run.reqPerSec, requests, cpuUsPerReqUnderProfiler: cpuUsPerReq, summary: kept };
      Object.defineProperty(windows[key], 'functions', { value: functions, enumerable: false }); // not in the results JSON
      process.stdout.write(`\n${formatProfileSummary(summary, { label: `${key} (${w.run.reqPerSec.toFixed(0)} req/s, ${cpuUsPerReq.toFixed(0)} us CPU/req under the profiler; ${w.run.total} requests)` })}\n\n`);
    }
  }
  // The last target is the bare control: what each gateway runs that the control does not; with a second
  // gateway (--lambda-also), also what it runs that the first does not.
  const names = targets.map((t) => t.name);
  const control = names.at(-1)!;
  const pairs = names.slice(0, -1).map((n) => [n, control]);
  if (names.length > 2) pairs.push([names[1], names[0]]);
  const comparisons: Record<string, ProfileComparison> = {};
  for (const target of loads) {
    for (const [a, b] of pairs) {
      const wa = windows[loads.length === 1 ? a : `${a} ${target.path}`];
      const wb = windows[loads.length === 1 ? b : `${b} ${target.path}`];
      if (!wa?.functions || !wb?.functions) continue;
      const c = compareProfiles({ ...wa.summary, functions: wa.functions }, { ...wb.summary, functions: wb.functions }, { requestsA: wa.requests, requestsB: wb.requests, top: 20 });
      comparisons[`${a} vs ${b} ${target.path}`] = c;
      process.stdout.write(`\n${formatComparison(c, { label: `${a} ${target.path}`, labelB: b })}\n\n`);
    }
  }
  return Object.assign(windows, { comparisons }) as ProfileResult;
}

/** /echo/invoke: the gateway against bare-langchain. */
export function profilePhase(load: LoadClient, opts: BenchOptions, code: ServerCode, tmp: string): Promise<ProfileResult> {
  const targets = [
    { name: 'gateway', start: (nodeArgs: string[]) => startGateway(code, 'gateway-profiled', { nodeArgs }) },
    { name: 'bare-langchain', start: (nodeArgs: string[]) => startBare(code, 'bare-lc-profiled', 'langchain', { nodeArgs }) },
  ];
  return profileServers(load, opts, tmp, 'echo', targets, [ECHO_LOAD]);
}

/** /lambda/invoke and /lambda_chunks/stream: the lambda gateway (and the first --lambda-also one) against bare-lambda. */
export function lambdaProfilePhase(load: LoadClient, opts: BenchOptions, code: ServerCode, tmp: string, also?: { gatewayMain: string }): Promise<ProfileResult> {
  const targets = [
    { name: 'gateway', start: (nodeArgs: string[]) => startLambdaGateway(code, 'gateway-lambda-profiled', { nodeArgs }) },
    ...(also ? [{ name: 'gateway-also', start: (nodeArgs: string[]) => startLambdaGateway(code, 'gateway-also-profiled', { nodeArgs, main: also.gatewayMain }) }] : []),
    { name: 'bare-lambda', start: (nodeArgs: string[]) => startLambdaBare(code, 'bare-lambda-profiled', { nodeArgs }) },
  ];
  return profileServers(load, opts, tmp, 'lambda', targets, Object.values(LAMBDA_LOADS));
}
