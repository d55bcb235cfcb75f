import { Counter, type Registry } from '@runnel/metrics';
import { CallerLabels, OTHER_CALLERS } from '../caller/caller-labels';
import { DeferredCounts } from '../deferred-counts';

export type AuthFailureReason = 'missing' | 'invalid' | 'unavailable' | 'forbidden';

/**
 * Caller metrics (prefix runnel_gateway_). The `caller` label is an identity's name: key names are
 * bounded by the keys file, but a JWT's `sub` may be one per end user, so past MAX_CALLER_LABELS
 * distinct names new ones are counted as `_other` rather than growing the series without bound.
 */
export class IdentityMetrics {
  readonly authFailures: Counter<'reason'>;
  readonly callerRequests: Counter<'caller' | 'endpoint'>;

  // labels() hashes its arguments on every call: caller counts are deferred to the scrape (DeferredCounts).
  readonly #pendingCallers = new DeferredCounts<'caller' | 'endpoint'>();
  readonly #labels: CallerLabels;
  readonly #failureChildren = new Map<AuthFailureReason, { inc(): void }>();

  /** `labels`: shared with the limit metrics, so one caller has one label value in every series. */
  constructor(registry: Registry, labels: CallerLabels = new CallerLabels()) {
    const registers = [registry];
    this.#labels = labels;
    this.authFailures = new Counter({
      name: 'runnel_gateway_auth_failures_total',
      help: 'Requests refused by caller checks: missing or invalid credentials (401), key set unavailable (503), scope forbids it (403)',
      labelNames: ['reason'],
      registers,
    });
    const pendingCallers = this.#pendingCallers;
    this.callerRequests = new Counter({
      name: 'runnel_gateway_caller_requests_total',
      help: `Authenticated requests by caller name and endpoint, before scope and rate-limit checks (callers past the first ${labels.max} as "${OTHER_CALLERS}")`,
      labelNames: ['caller', 'endpoint'],
      registers,
      collect() {
        pendingCallers.flushInto(this);
      },
    });
  }

  countFailure(reason: AuthFailureReason): void {
    let child = this.#failureChildren.get(reason);
    if (!child) this.#failureChildren.set(reason, (child = this.authFailures.labels(reason)));
    child.inc();
  }

  countCaller(name: string, endpoint: string): void {
    const caller = this.#labels.of(name);
    const key = `${caller}\u0000${endpoint}`;
    if (!this.#pendingCallers.incKnown(key)) this.#pendingCallers.add(key, { caller, endpoint });
  }
}
