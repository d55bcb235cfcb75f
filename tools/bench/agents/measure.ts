// The load: fresh threads, one run (wait or stream, its answer checked), and a measurement of a scenario
// against a target with the CPU of the server, PostgreSQL, Redis, this client and everything else.
import type { Client } from '@langchain/langgraph-sdk';
import { machineBusySeconds, procCpuSeconds, procTreeCpuSeconds } from '@runnel/testing';
import { syscalls } from './cpu';
import type { Diagnostics } from './diag';
import { log, type Mode, type Scenario, type TargetName } from './options';

export const GRAPH_ID = 'trivial';

export interface Target {
  name: TargetName;
  client: Client;
  pids: { server: number; postgres?: number; redis?: number };
}

export interface Measurement {
  target: TargetName;
  scenario: string;
  round: number;
  runs: number;
  errors: number;
  seconds: number;
  latencies: number[];
  firstEvent: number[];
  cpu: Record<string, number>; // seconds of CPU during the measurement, by process group
  otherCores: number;
  loadavg: string;
  sys: { readsPerRun: number; writesPerRun: number };
  /** The measurement's span in CLOCK_MONOTONIC µs (to cut a --cpu-prof profile to it). */
  monoStartUs: number;
  monoEndUs: number;
  diagnostics?: Record<string, unknown>;
}

export async function createThreads(client: Client, n: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(16, n) }, async () => {
      while (next < n) {
        next++;
        ids.push((await client.threads.create()).thread_id);
      }
    }),
  );
  return ids;
}

async function oneRun(client: Client, mode: Mode, threadId: string, count: number): Promise<{ ms: number; firstMs: number; ok: boolean }> {
  const t0 = performance.now();
  let firstMs = NaN;
  let got: unknown;
  if (mode === 'wait') {
    got = ((await client.runs.wait(threadId, GRAPH_ID, { input: { count } })) as { count?: number }).count;
  } else {
    for await (const part of client.runs.stream(threadId, GRAPH_ID, { input: { count }, streamMode: 'values' })) {
      if (Number.isNaN(firstMs)) firstMs = performance.now() - t0;
      if (part.event === 'values') got = (part.data as { count?: number }).count;
    }
  }
  return { ms: performance.now() - t0, firstMs, ok: got === count + 1 };
}

/** PostgreSQL's and Redis's CPU, read at each measurement's start and end (a reference round's idle ones too). */
export class Backends {
  constructor(readonly pids: { postgres: number; redis: number }) {}
  /** CPU seconds of each so far. */
  read(): { postgres: number; redis: number } {
    return { postgres: procTreeCpuSeconds(this.pids.postgres), redis: procCpuSeconds(this.pids.redis) };
  }
}

export interface MeasureSettings {
  seconds: number;
  minSamples: number;
  maxSeconds: number;
  diag?: Diagnostics;
}

/** Runs `scenario` against `target` until `seconds` (and `minSamples`) or the threads run out. */
export async function measure(target: Target, scenario: Scenario, threads: string[], backends: Backends, { seconds, minSamples, maxSeconds, diag }: MeasureSettings) {
  const latencies: number[] = [];
  const firstEvent: number[] = [];
  let errors = 0;
  let next = 0;
  const firstError: unknown[] = [];
  const isGateway = target.name === 'gateway';
  const diagnose = isGateway ? diag : undefined;
  await diagnose?.reset();
  const sys0 = syscalls(target.pids.server);
  const server = () => (target.name === 'reference' ? procTreeCpuSeconds : procCpuSeconds)(target.pids.server);
  const backends0 = backends.read();
  const cpu0 = {
    server: server(),
    postgres: procTreeCpuSeconds(target.pids.postgres),
    redis: procCpuSeconds(target.pids.redis),
    client: process.cpuUsage(),
    machine: machineBusySeconds(),
  };
  const monoStartUs = Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as a V8 .cpuprofile's timestamps
  const t0 = performance.now();
  const endAt = t0 + seconds * 1000;
  const hardEnd = t0 + maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: scenario.concurrency }, async () => {
      for (;;) {
        const now = performance.now();
        if (now >= hardEnd) return;
        if (now >= endAt && latencies.length + errors >= minSamples) return;
        if (next >= threads.length) return;
        const thread = threads[next++];
        const count = next;
        try {
          const r = await oneRun(target.client, scenario.mode, thread, count);
          if (!r.ok) {
            errors++; // a wrong answer is an error, not a run: it stays out of runs/s, p50 and p99
            continue;
          }
          latencies.push(r.ms);
          if (!Number.isNaN(r.firstMs)) firstEvent.push(r.firstMs);
        } catch (err) {
          errors++;
          if (firstError.length < 3) firstError.push(err);
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const monoEndUs = Number(process.hrtime.bigint() / 1000n);
  const sys1 = syscalls(target.pids.server);
  const clientUsage = process.cpuUsage(cpu0.client);
  const cpu = {
    server: server() - cpu0.server,
    postgres: target.pids.postgres ? procTreeCpuSeconds(target.pids.postgres) - cpu0.postgres : 0,
    redis: target.pids.redis ? procCpuSeconds(target.pids.redis) - cpu0.redis : 0,
    client: (clientUsage.user + clientUsage.system) / 1e6,
  };
  const machine = machineBusySeconds() - cpu0.machine;
  // Everything else: the machine's busy time minus the servers, the backends and this client (the
  // reference round's PostgreSQL/Redis are idle but counted in the machine total, so subtract theirs,
  // over this measurement's own window, too).
  const backends1 = backends.read();
  const backendsCpu = backends1.postgres - backends0.postgres + (backends1.redis - backends0.redis);
  const ours = cpu.server + cpu.client + backendsCpu;
  const otherCores = Math.max(0, (machine - ours) / elapsed);
  if (firstError.length) log(`${target.name} ${scenario.key}: ${errors} errors, e.g.`, String(firstError[0]));
  const diagnostics = diagnose && latencies.length ? await diagnose.read(latencies.length) : undefined;
  const sys = { readsPerRun: (sys1.r - sys0.r) / Math.max(1, latencies.length), writesPerRun: (sys1.w - sys0.w) / Math.max(1, latencies.length) };
  return { runs: latencies.length, errors, seconds: elapsed, latencies, firstEvent, cpu, otherCores, sys, diagnostics, monoStartUs, monoEndUs };
}
