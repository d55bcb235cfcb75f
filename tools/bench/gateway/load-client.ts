// The bench's side of the load worker (load-worker.ts, a child process over IPC): requests by id, each
// load step measured for the CPU of the server, of the load generator and of everything else on the
// machine (the harness's CpuMeter), and the server's CPU by thread.
import { Child, CpuMeter, procThreadCpu, threadGroupsDelta } from '@runnel/testing';
import type { Server } from './servers';
import { BODY, EXPECT_OUTPUT, HEADERS, type Load } from './workload';

export interface LatencyStats {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
}

export interface AutocannonRequestOptions {
  url: string;
  connections: number;
  duration: number;
  body: string;
  headers: Record<string, string>;
  overallRate?: number;
  expectOutput?: string;
  expectCount?: { needle: string; count: number };
}
export interface AutocannonSummary {
  url: string;
  connections: number;
  duration: number;
  overallRate: number | null;
  reqPerSec: number;
  reqPerSecStddev: number;
  total: number;
  latencyMs: Omit<LatencyStats, 'count'>;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  statusCodes: Record<string, { count: number }>;
}

export interface PacedOptions {
  host: string;
  port: number;
  path: string;
  rate: number;
  duration: number;
  body: string;
  headers: Record<string, string>;
  sockets?: number;
  expectOutput?: string;
}
export interface PacedSummary {
  rate: number;
  duration: number;
  total: number;
  achievedRate: number;
  errors: number;
  mismatches: number;
  statusCodes: Record<string, number>;
  serviceMs: LatencyStats;
  scheduledMs: LatencyStats;
}

export interface StreamsOpenOptions {
  host: string;
  port: number;
  path: string;
  count: number;
  body: string;
  headers: Record<string, string>;
  window?: number;
  timeoutMs?: number;
}
export interface StreamsOpened {
  requested: number;
  open: number;
  failed: number;
  failures: Record<string, number>;
  openMs: number;
}
export interface StreamsClosed {
  closed: number;
  closeMs: number;
}

export type WorkerRequest = { id: number } & (
  | { type: 'autocannon'; opts: AutocannonRequestOptions }
  | { type: 'paced'; opts: PacedOptions }
  | { type: 'streams-open'; opts: StreamsOpenOptions }
  | { type: 'streams-close'; opts: Record<string, never> }
);
interface Replies {
  autocannon: AutocannonSummary;
  paced: PacedSummary;
  'streams-open': StreamsOpened;
  'streams-close': StreamsClosed;
}

/** CPU during one load step: seconds and cores of the server, cores of the load generator and of the rest of the machine. */
export interface StepCpu {
  serverSeconds: number;
  serverThreads: ReturnType<typeof threadGroupsDelta>;
  serverCores: number;
  loadGenCores: number;
  otherCores: number;
}
export type Measured<T> = T & { cpu: StepCpu };

export class LoadClient {
  readonly #child: Child;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  /** Starts the worker (`script`: its bundle); `nofile` raises its open-files limit (one socket per stream). */
  constructor(script: string, env: Record<string, string>, nofile?: number) {
    this.#child = Child.node('load-worker', script, [], { ipc: true, nofile, env });
    this.#child.proc.on('message', (msg: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`load worker: ${msg.error}`));
    });
    void this.#child.exited.then(() => {
      for (const p of this.#pending.values()) p.reject(new Error(`load worker exited (${this.#child.exitCode}):\n${this.#child.tail()}`));
      this.#pending.clear();
    });
  }

  get pid(): number {
    return this.#child.pid;
  }

  ask<K extends keyof Replies>(type: K, opts: Extract<WorkerRequest, { type: K }>['opts']): Promise<Replies[K]> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ id, type, opts });
    });
  }

  /** Runs a load step and measures CPU use of the server, the load generator and everything else on the machine. */
  async measured<T extends object>(server: Server, step: () => Promise<T>): Promise<T & { cpu: StepCpu }> {
    const threads0 = procThreadCpu(server.pid);
    const meter = new CpuMeter({ server: server.pid, loadGen: this.pid, parent: process.pid });
    const result = await step();
    const r = meter.read();
    const serverThreads = threadGroupsDelta(threads0, procThreadCpu(server.pid));
    return { ...result, cpu: { serverSeconds: r.seconds.server, serverThreads, serverCores: r.cores.server, loadGenCores: r.cores.loadGen, otherCores: r.otherCores } };
  }

  /** autocannon against `server` (by default POST /echo/invoke, every body checked). */
  autocannon(server: Server, { duration, connections, overallRate, path = '/echo/invoke', expectOutput = EXPECT_OUTPUT, expectCount }: { duration: number; connections: number; overallRate?: number } & Partial<Load>): Promise<Measured<AutocannonSummary>> {
    return this.measured(server, () => this.ask('autocannon', { url: `http://127.0.0.1:${server.port}${path}`, connections, duration, body: BODY, headers: HEADERS, overallRate, expectOutput, expectCount }));
  }

  /** The evenly paced open-loop generator against POST /echo/invoke. */
  paced(server: Server, rate: number, duration: number): Promise<Measured<PacedSummary>> {
    return this.measured(server, () => this.ask('paced', { host: '127.0.0.1', port: server.port, path: '/echo/invoke', rate, duration, body: BODY, headers: HEADERS, expectOutput: EXPECT_OUTPUT }));
  }

  async stop(): Promise<void> {
    await this.#child.stop('SIGTERM', 5000);
  }
}
