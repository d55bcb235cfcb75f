import type { Logger } from '@runnel/telemetry';
import type { LimiterOperation } from './caller-limiter';
import type { LimitMetrics } from './limit-metrics';

/** While Redis is down every request would warn: one line per operation per this many ms, with the count since. */
const WARN_EVERY_MS = 10_000;

/**
 * Counts every limiter store failure (runnel_gateway_limiter_errors_total{operation}) and logs them
 * throttled, so an outage is visible without a warning per request.
 */
export class LimiterWarnings {
  readonly #last = new Map<LimiterOperation, { at: number; suppressed: number }>();

  constructor(
    private readonly metrics: LimitMetrics,
    private readonly logger: Logger,
  ) {}

  report(operation: LimiterOperation, err: unknown, fields: Record<string, unknown> = {}): void {
    this.metrics.countError(operation);
    const now = Date.now();
    const last = this.#last.get(operation);
    if (last && now - last.at < WARN_EVERY_MS) {
      last.suppressed++;
      return;
    }
    this.#last.set(operation, { at: now, suppressed: 0 });
    const effect =
      operation === 'take' || operation === 'acquire'
        ? 'request let through without its limit (fail open)'
        : 'the slot lapses after its lease';
    this.logger.warn({ err, operation, ...fields, suppressedSinceLastWarning: last?.suppressed ?? 0 }, `caller limiter unavailable: ${effect}`);
  }
}
