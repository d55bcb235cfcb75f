import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;

/** VmRSS and VmHWM (peak RSS) of a local process in MiB; NaN once it is gone. */
export function procMemMiB(pid: number | undefined): { rssMiB: number; hwmMiB: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: Number.NaN, hwmMiB: Number.NaN };
  }
}

/** VmRSS of a local process in MiB; NaN once it is gone. */
export function procRssMiB(pid: number | undefined): number {
  return procMemMiB(pid).rssMiB;
}

/** utime + stime of a local process in seconds (USER_HZ = 100 on Linux); NaN once it is gone. */
export function procCpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    // After the last ')': the command name in brackets may itself hold spaces and parentheses.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** One series of a Prometheus text exposition: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

export async function scrape(metricsUrl: string): Promise<Sample[]> {
  const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${metricsUrl}/metrics: HTTP ${res.status}`);
  return parseMetrics(await res.text());
}

/** A metric's first series from a service's /metrics, in MiB; NaN when unavailable. */
export async function metricMiB(metricsUrl: string, name: string): Promise<number> {
  try {
    const s = (await scrape(metricsUrl)).find((x) => x.name === name);
    return s ? s.value / MiB : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Where to read a process's RSS: /proc for one we started, its /metrics for a remote one. */
export type RssSource = { pid: number } | { metricsUrl: string };

export function readRss(source: RssSource): Promise<number> {
  return 'pid' in source ? Promise.resolve(procRssMiB(source.pid)) : metricMiB(source.metricsUrl, 'process_resident_memory_bytes');
}

/** Calls `read` every `everyMs` until stopped; values oldest first, failed reads (NaN) left out. */
export class Sampler {
  readonly samples: { atMs: number; value: number }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #t0 = Date.now();
  #pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly read: () => Promise<number>,
    private readonly everyMs: number,
  ) {}

  start(): this {
    this.#t0 = Date.now();
    const tick = () => {
      this.#pending = this.read().then((value) => {
        if (Number.isFinite(value)) this.samples.push({ atMs: Date.now() - this.#t0, value });
      });
    };
    tick();
    this.#timer = setInterval(tick, this.everyMs);
    return this;
  }

  /** Stops after one last read, so the end of the run is in the series. */
  async stop(): Promise<number[]> {
    clearInterval(this.#timer);
    await this.#pending;
    const last = await this.read();
    if (Number.isFinite(last)) this.samples.push({ atMs: Date.now() - this.#t0, value: last });
    return this.samples.map((s) => s.value);
  }
}
