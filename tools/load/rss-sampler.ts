import { procRssMiB, scrape } from '@runnel/testing';

const MiB = 1024 * 1024;

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
