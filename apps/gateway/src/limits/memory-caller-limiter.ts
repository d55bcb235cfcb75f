import { randomUUID } from 'node:crypto';
import {
  type CallerLimiter,
  DEFAULT_LEASE_MS,
  emissionIntervalUs,
  type RateDecision,
  type RatePolicy,
  rateDecision,
  SLOT_RETRY_AFTER_SECONDS,
  type SlotDecision,
  SlotLease,
} from './caller-limiter';

/** A monotonic clock in whole microseconds: wall-clock steps (NTP) must not refill or drain budgets. */
function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Past this many callers tracked, idle ones are swept (at most once a second, so 10,000 busy callers
 * do not make every request walk them all): the maps stay bounded by the callers active lately.
 */
const SWEEP_AT = 10_000;
const SWEEP_EVERY_US = 1_000_000;

/**
 * The limiter for one gateway instance (GATEWAY_REDIS_URL unset): the same GCRA and leased slots as
 * the Redis limiter (see caller-limiter.ts), in this process's memory. With N replicas a caller
 * gets N times its limits; set GATEWAY_REDIS_URL to share them. Never throws LimiterUnavailableError.
 */
export class MemoryCallerLimiter implements CallerLimiter {
  /** Caller → theoretical arrival time (µs, nowUs clock). */
  readonly #tat = new Map<string, number>();
  /** Caller → slot id → lease expiry (µs). */
  readonly #slots = new Map<string, Map<string, number>>();
  readonly #held = new Set<SlotLease>();
  #sweptAt = 0;

  async takeRequest(caller: string, { requestsPerMinute: limit }: RatePolicy): Promise<RateDecision> {
    const now = nowUs();
    this.#sweep(now);
    const interval = emissionIntervalUs(limit);
    const burst = interval * limit;
    const tat = Math.max(this.#tat.get(caller) ?? 0, now);
    const newTat = tat + interval;
    const allowAt = newTat - burst;
    if (now < allowAt) return rateDecision(limit, false, 0, (tat - now) / 1000, (allowAt - now) / 1000);
    this.#tat.set(caller, newTat);
    return rateDecision(limit, true, Math.floor((burst - (newTat - now)) / interval), (newTat - now) / 1000, 0);
  }

  async acquireSlot(caller: string, max: number, leaseMs = DEFAULT_LEASE_MS): Promise<SlotDecision> {
    const now = nowUs();
    this.#sweep(now);
    const slots = this.#live(caller, now) ?? new Map<string, number>();
    if (slots.size >= max) return { ok: false, inUse: slots.size, retryAfterSeconds: SLOT_RETRY_AFTER_SECONDS };
    const id = randomUUID();
    slots.set(id, now + leaseMs * 1000);
    this.#slots.set(caller, slots);
    const lease = new SlotLease(
      leaseMs,
      async () => {
        // Put back even if it had lapsed: the request is still running (as the Redis script does).
        const current = this.#slots.get(caller) ?? new Map<string, number>();
        current.set(id, nowUs() + leaseMs * 1000);
        this.#slots.set(caller, current);
      },
      async () => {
        const current = this.#slots.get(caller);
        current?.delete(id);
        if (current?.size === 0) this.#slots.delete(caller);
      },
      (l) => this.#held.delete(l),
    );
    this.#held.add(lease);
    return lease;
  }

  async close(): Promise<void> {
    for (const lease of [...this.#held]) lease.stop();
  }

  #sweep(now: number): void {
    if (this.#tat.size + this.#slots.size <= SWEEP_AT || now - this.#sweptAt < SWEEP_EVERY_US) return;
    this.#sweptAt = now;
    for (const [caller, tat] of this.#tat) if (tat <= now) this.#tat.delete(caller);
    for (const caller of [...this.#slots.keys()]) this.#live(caller, now);
  }

  /** The caller's slots with expired leases pruned (undefined, and forgotten, when none are left). */
  #live(caller: string, now: number): Map<string, number> | undefined {
    const slots = this.#slots.get(caller);
    if (!slots) return undefined;
    for (const [id, expiry] of slots) if (expiry <= now) slots.delete(id);
    if (slots.size > 0) return slots;
    this.#slots.delete(caller);
    return undefined;
  }
}
