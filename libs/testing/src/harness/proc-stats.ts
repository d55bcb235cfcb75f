import { readdirSync, readFileSync } from 'node:fs';

/**
 * What /proc says about a local process (Linux only). Every reader returns NaN (or an empty result)
 * once the process is gone, so a sampler racing a process's exit records a gap, not a crash.
 */

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux this runs on). */
export const CLK_TCK = 100;
const MiB = 1024 * 1024;

/** The fields after the command name: it is in brackets and may itself hold spaces and parentheses. */
function statFields(text: string): string[] {
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process, in seconds. */
export function procCpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const rest = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU seconds of `pid` and every process below it (PostgreSQL's backends): the live ones from their
 * own stat, the ended ones from the root's cutime + cstime (what it has reaped). NaN once `pid` is gone.
 */
export function procTreeCpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  let reaped = Number.NaN;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let rest: string[];
    try {
      rest = statFields(readFileSync(`/proc/${name}/stat`, 'utf8'));
    } catch {
      continue; // ended meanwhile
    }
    const p = Number(name);
    const ppid = Number(rest[1]);
    ticks.set(p, Number(rest[11]) + Number(rest[12]));
    if (p === pid) reaped = Number(rest[13]) + Number(rest[14]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)?.push(p);
  }
  if (!ticks.has(pid)) return Number.NaN;
  let total = (ticks.get(pid) ?? 0) + reaped;
  const stack = [...(children.get(pid) ?? [])];
  for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
    total += ticks.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total / CLK_TCK;
}

/** VmRSS and VmHWM (peak RSS) of a process, in MiB. */
export function procMemMiB(pid: number | undefined): { rssMiB: number; hwmMiB: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { rssMiB: (kb('VmRSS') * 1024) / MiB, hwmMiB: (kb('VmHWM') * 1024) / MiB };
  } catch {
    return { rssMiB: Number.NaN, hwmMiB: Number.NaN };
  }
}

/** VmRSS of a process, in MiB. */
export function procRssMiB(pid: number | undefined): number {
  return procMemMiB(pid).rssMiB;
}

/** One thread's name and CPU seconds, by thread id. */
export type ThreadCpu = Map<string, { name: string; seconds: number }>;

/**
 * utime + stime per thread: MainThread (the event loop), V8Worker (GC helpers, concurrent
 * compilation), libuv-worker (fs, dns, async crypto) and the few others. A thread gone by the next
 * read drops out.
 */
export function procThreadCpu(pid: number | undefined): ThreadCpu {
  const out: ThreadCpu = new Map();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const rest = statFields(text);
      out.set(tid, { name: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), seconds: (Number(rest[11]) + Number(rest[12])) / CLK_TCK });
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}

/** CPU seconds per thread group between two procThreadCpu reads. */
export function threadGroupsDelta(before: ThreadCpu, after: ThreadCpu): { main: number; v8: number; libuv: number; other: number } {
  const groups = { main: 0, v8: 0, libuv: 0, other: 0 };
  for (const [tid, a] of after) {
    const d = a.seconds - (before.get(tid)?.seconds ?? 0);
    const g = a.name === 'MainThread' || a.name === 'node' ? 'main' : a.name.startsWith('V8Worker') ? 'v8' : a.name.startsWith('libuv-worker') ? 'libuv' : 'other';
    groups[g] += d;
  }
  return groups;
}

/**
 * The main thread's scheduler statistics (/proc/<pid>/schedstat, nanoseconds): time on a CPU and
 * time runnable but waiting for one. For Node that is the event loop: wall − both = idle.
 */
export function schedStat(pid: number | undefined): { onCpuS: number; waitS: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { onCpuS: run / 1e9, waitS: wait / 1e9 };
  } catch {
    return { onCpuS: Number.NaN, waitS: Number.NaN };
  }
}

/** Busy CPU seconds of the whole machine, all cores (idle and iowait are not busy). */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / CLK_TCK;
}

/** A process's open-files limit (RLIMIT_NOFILE), soft and hard. */
export function openFilesLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/limits has no "Max open files" line`);
  const n = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m[1]), hard: n(m[2]) };
}

/** The state letter of /proc/<pid>/stat (R running, S sleeping, Z zombie, …), or 'gone'. */
export function procState(pid: number | undefined): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return 'gone';
  }
}
