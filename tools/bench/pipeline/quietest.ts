import type { Options } from './options';
import { log } from './report';

/**
 * Runs a measurement until other processes used at most --noise-cores during it (up to --retries
 * reruns), and reports the quietest attempt.
 */
export async function quietest<T extends { cpu: { otherCores: number } }>(opts: Options, what: string, run: () => Promise<T>): Promise<{ best: T; attempts: T[] }> {
  const attempts: T[] = [];
  for (let i = 0; i <= opts.retries; i++) {
    const r = await run();
    attempts.push(r);
    if (r.cpu.otherCores <= opts.noiseCores) break;
    if (i < opts.retries) log(`${what}: other processes used ${r.cpu.otherCores.toFixed(2)} cores (> ${opts.noiseCores}); running again`);
  }
  const best = attempts.reduce((a, b) => (b.cpu.otherCores < a.cpu.otherCores ? b : a));
  return { best, attempts };
}
