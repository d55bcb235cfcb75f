/** Number formats of the benchmark reports: '–' for what was not measured (NaN, Infinity). */
export const f0 = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
export const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
export const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');
export const met = (ok: boolean): string => (ok ? 'MET' : 'NOT MET');

export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
/** The mean; NaN for no values. */
export const mean = (xs: number[]): number => (xs.length ? sum(xs) / xs.length : Number.NaN);

/** The p-th percentile (0–100) of `values` by nearest rank (a sorted copy is taken); NaN for none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A plain-text table: first column left-aligned, the others right-aligned, each padded to its widest cell. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}
