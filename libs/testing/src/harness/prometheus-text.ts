/** One series of a Prometheus text exposition: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format (comments skipped; label values unescaped only as far as quotes go). */
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

/** GET <baseUrl>/metrics, parsed. */
export async function scrape(baseUrl: string): Promise<Sample[]> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${baseUrl}/metrics: HTTP ${res.status}`);
  return parseMetrics(await res.text());
}

/** Every metric name's sum over its series (histogram buckets left out: their sums mean nothing). */
export function sumsByName(samples: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (!('le' in s.labels)) out[s.name] = (out[s.name] ?? 0) + s.value;
  return out;
}
