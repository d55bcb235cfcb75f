// A process's read/write syscalls from /proc (its CPU: procCpuSeconds, procTreeCpuSeconds in @runnel/testing).
import { readFileSync } from 'node:fs';

/** read/write syscalls of `pid` so far (/proc/<pid>/io syscr, syscw). */
export function syscalls(pid: number): { r: number; w: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { r: Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0), w: Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0) };
  } catch {
    return { r: 0, w: 0 };
  }
}
