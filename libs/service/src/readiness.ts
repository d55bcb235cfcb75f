/** What one dependency check reports; `detail` is shown on /ready (never secrets). */
export interface CheckResult {
  ok: boolean;
  detail?: unknown;
}

export type ReadinessCheck = () => CheckResult | boolean | Promise<CheckResult | boolean>;

export interface ReadinessReport {
  status: 'ready' | 'not_ready' | 'draining';
  checks: Record<string, CheckResult>;
}

/** Runs every check with a bound on time so one hung dependency cannot hang the probe. */
export async function runChecks(checks: Map<string, ReadinessCheck>, timeoutMs: number): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all(
    [...checks].map(async ([name, check]): Promise<[string, CheckResult]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          Promise.resolve().then(check),
          new Promise<CheckResult>((resolve) => {
            timer = setTimeout(() => resolve({ ok: false, detail: `check timed out after ${timeoutMs} ms` }), timeoutMs);
          }),
        ]);
        return [name, typeof result === 'boolean' ? { ok: result } : result];
      } catch (err) {
        return [name, { ok: false, detail: err instanceof Error ? err.message : String(err) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
