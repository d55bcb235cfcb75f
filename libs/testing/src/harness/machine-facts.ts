import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  cpuMHz?: number;
  memoryGiB: number;
  /** cgroup v2 cpu.max ("max 100000" when unlimited), when there is one. */
  cgroupCpuMax?: string;
  kernel: string;
  node: string;
  /** redis-server --version's v=…, when redis-server is on PATH. */
  redis?: string;
  loadAvgAtStart: number[];
}

/** What a benchmark report opens with: the figures mean little without the machine they came from. */
export function machineFacts(): MachineFacts {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const mhz = /^cpu MHz\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  let cgroupCpuMax: string | undefined;
  try {
    cgroupCpuMax = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim();
  } catch {
    // no cgroup v2 CPU limit file
  }
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || os.availableParallelism());
  const redis = /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1];
  return { nproc, cpuModel: model, cpuMHz: mhz ? Number(mhz) : undefined, memoryGiB: memKb / 1024 / 1024, cgroupCpuMax, kernel: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, redis, loadAvgAtStart: os.loadavg() };
}
