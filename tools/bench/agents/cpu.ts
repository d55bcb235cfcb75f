// CPU of a process and its descendants (PostgreSQL's backends), and a process's read/write syscalls,
// from /proc: what the harness's per-process readers (procCpuSeconds, CpuMeter) do not cover.
import { readdirSync, readFileSync } from 'node:fs';
import { CLK_TCK } from '@runnel/testing';

function statOf(pid: number): { ppid: number; ticks: number; reaped: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] = state (field 3); ppid field 4 → f[1]; utime, stime, cutime, cstime = fields 14–17 → f[11]–f[14]
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of `pid` and (with `tree`) every process below it (PostgreSQL's backends), the live ones
 * from their own stat and the ended ones from the root's cutime+cstime (what it has reaped).
 */
export function cpuSeconds(pid: number | undefined, tree = false): number {
  if (!pid) return 0;
  const root = statOf(pid);
  let ticks = (root?.ticks ?? 0) + (tree ? (root?.reaped ?? 0) : 0);
  if (tree) {
    const children = new Map<number, number[]>();
    const all = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const st = statOf(Number(name));
      if (!st) continue;
      all.set(Number(name), st.ticks);
      if (!children.has(st.ppid)) children.set(st.ppid, []);
      children.get(st.ppid)?.push(Number(name));
    }
    const stack = [...(children.get(pid) ?? [])];
    for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
      ticks += all.get(p) ?? 0;
      stack.push(...(children.get(p) ?? []));
    }
  }
  return ticks / CLK_TCK;
}

/** read/write syscalls of `pid` so far (/proc/<pid>/io syscr, syscw). */
export function syscalls(pid: number): { r: number; w: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { r: Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0), w: Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0) };
  } catch {
    return { r: 0, w: 0 };
  }
}
