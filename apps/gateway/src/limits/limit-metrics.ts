import { Counter, Gauge, type Registry } from '@runnel/metrics';
import { CallerLabels } from '../caller/caller-labels';
import type { LimiterOperation } from './caller-limiter';

export type LimitKind = 'requests' | 'concurrency';

/**
 * Metrics of the per-caller limits. The `caller` label is the identity's name (a keys-file name, a
 * JWT subject), never a key; past 1,000 distinct names new ones share `_other` (caller/caller-labels.ts).
 */
export class LimitMetrics {
  readonly rateLimited: Counter<'caller' | 'limit'>;
  readonly slotsInUse: Gauge<'caller'>;
  readonly #labels: CallerLabels;
  readonly limiterErrors: Counter<'operation'>;

  /** `labels`: shared with the identity metrics, so one caller has one label value in every series. */
  constructor(registry: Registry, labels: CallerLabels = new CallerLabels()) {
    this.#labels = labels;
    const registers = [registry];
    this.rateLimited = new Counter({
      name: 'runnel_gateway_rate_limited_total',
      help: 'Requests refused with 429 by caller and by the limit reached (requests per minute, or concurrency)',
      labelNames: ['caller', 'limit'],
      registers,
    });
    this.slotsInUse = new Gauge({
      name: 'runnel_gateway_caller_slots_in_use',
      help: "Concurrency slots held by each caller's requests on this instance",
      labelNames: ['caller'],
      registers,
    });
    this.limiterErrors = new Counter({
      name: 'runnel_gateway_limiter_errors_total',
      help: 'Limiter store (Redis) failures by operation; take and acquire failures let the request through (fail open)',
      labelNames: ['operation'],
      registers,
    });
  }

  /** The `caller` label for a name: bounded like the identity metrics' (past 1,000 names: `_other`). */
  callerLabel(name: string): string {
    return this.#labels.of(name);
  }

  countRefused(caller: string, limit: LimitKind): void {
    this.rateLimited.labels(this.#labels.of(caller), limit).inc();
  }

  countError(operation: LimiterOperation): void {
    this.limiterErrors.labels(operation).inc();
  }
}
