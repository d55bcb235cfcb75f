import type { Logger } from '@runnel/telemetry';
import type { Guard, GuardContext } from '../http/guard';
import { HttpError } from '../protocol/http-error';
import { type CallerLimiter, DEFAULT_LEASE_MS, type LimiterOperation, type SlotDecision } from './caller-limiter';
import { extraHeadersOf, setExtraHeaders } from '../http/response-writer';
import type { LimitMetrics } from './limit-metrics';
import { LimiterWarnings } from './limiter-warnings';
import { rateLimitHeaders, retryAfterHeader } from './ratelimit-headers';

/** The limits of a caller whose identity sets none (GATEWAY_RATE_LIMIT, GATEWAY_CALLER_CONCURRENCY); 0 = none. */
export interface DefaultCallerLimits {
  readonly requestsPerMinute: number;
  readonly concurrency: number;
}

export interface RateLimitGuardOptions {
  readonly limiter: CallerLimiter;
  readonly defaults: DefaultCallerLimits;
  readonly metrics: LimitMetrics;
  readonly logger: Logger;
  /** Lease of a concurrency slot, renewed while held (caller-limiter.ts). */
  readonly leaseMs?: number;
}

/**
 * Per-caller rate limit, then concurrency quota, for requests with an identity (no identity: auth
 * is off, nothing to count). The identity's own `limits` override the defaults field by field.
 *
 * Refusals are 429 with `Retry-After`; every answer to a rate-limited caller carries the IETF
 * `RateLimit` / `RateLimit-Policy` fields (recorded with setExtraHeaders: the response writer adds
 * them to its one writeHead). The slot is released when the response closes (ctx.onClose).
 *
 * When the limiter's store cannot answer (Redis down, or slower than its ~250 ms command timeout)
 * the request goes through — fail open — with a warning log and runnel_gateway_limiter_errors_total:
 * limits protect capacity, and refusing every caller (or answering 500) while Redis is away would
 * turn a Redis outage into a gateway outage. It never waits longer than that timeout.
 */
export class RateLimitGuard implements Guard {
  readonly name = 'rate-limit';
  readonly #warnings: LimiterWarnings;

  constructor(private readonly options: RateLimitGuardOptions) {
    this.#warnings = new LimiterWarnings(options.metrics, options.logger);
  }

  check(ctx: GuardContext): Promise<void> | undefined {
    const identity = ctx.identity;
    if (!identity) return undefined;
    const requestsPerMinute = identity.limits?.requestsPerMinute ?? this.options.defaults.requestsPerMinute;
    const concurrency = identity.limits?.concurrency ?? this.options.defaults.concurrency;
    // No limit for this caller: answer synchronously (no promise, no limiter round trip).
    if (requestsPerMinute <= 0 && concurrency <= 0) return undefined;
    return this.#check(ctx, identity.name, requestsPerMinute, concurrency);
  }

  async #check(ctx: GuardContext, name: string, requestsPerMinute: number, concurrency: number): Promise<void> {
    const { limiter, metrics } = this.options;

    if (requestsPerMinute > 0) {
      const decision = await this.#orFailOpen('take', name, () => limiter.takeRequest(name, { requestsPerMinute }));
      if (decision) {
        const headers = rateLimitHeaders(decision);
        setExtraHeaders(ctx.res, headers);
        if (!decision.allowed) {
          metrics.countRefused(name, 'requests');
          throw new HttpError(
            429,
            `Rate limit of ${requestsPerMinute} requests per minute for "${name}" reached; retry in ${decision.retryAfterSeconds} s`,
            { ...headers, ...retryAfterHeader(decision.retryAfterSeconds) },
          );
        }
      }
    }

    // After the rate check: a request refused for concurrency has spent its unit of the rate budget
    // (it was a request), and the slot is only taken by requests that will run.
    if (concurrency > 0) {
      const leaseMs = this.options.leaseMs ?? DEFAULT_LEASE_MS;
      const slot: SlotDecision | undefined = await this.#orFailOpen('acquire', name, () => limiter.acquireSlot(name, concurrency, leaseMs));
      if (!slot) return;
      if (!slot.ok) {
        metrics.countRefused(name, 'concurrency');
        throw new HttpError(
          429,
          `Concurrency quota of ${concurrency} requests at once for "${name}" reached; retry in ${slot.retryAfterSeconds} s`,
          { ...extraHeadersOf(ctx.res), ...retryAfterHeader(slot.retryAfterSeconds) },
        );
      }
      const gauge = metrics.slotsInUse.labels(metrics.callerLabel(name));
      gauge.inc();
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        gauge.dec();
        void slot.release();
      };
      ctx.onClose(release);
      // The client may have gone while the slot was being taken: then no close event is left to wait for.
      if (ctx.res.closed) release();
    }
  }

  /** Runs one limiter call; on any failure reports it and answers undefined: let the request through. */
  async #orFailOpen<T>(operation: LimiterOperation, caller: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      this.#warnings.report(operation, err, { caller });
      return undefined;
    }
  }
}
