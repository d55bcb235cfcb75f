import type { StreamLease } from './stream-lease';

/** Why a term ended: the reason its signal aborted with. */
export type TermEnd = 'lost' | 'released' | 'stopped';

/** The AbortSignal reason of a term whose lease was lost (not renewed in time, or taken over). */
export class LeaseLostError extends Error {
  constructor(stream: string, why: string) {
    super(`lease for stream ${stream} lost: ${why}`);
    this.name = 'LeaseLostError';
  }
}

const BEGIN = Symbol('LeaseTerm.begin');

/**
 * One holding of a stream's lease: its fencing token, and an AbortSignal that aborts the moment
 * the lease cannot be counted on any more — a renewal answered "not yours", or no renewal has
 * succeeded for a whole TTL (Redis unreachable: a standby may have taken over by now). Renewal
 * runs every third of the TTL until the term ends. Only StreamLease.acquire makes terms, and only
 * a term opens fenced checkpoint writes (CheckpointStore.writer).
 */
export class LeaseTerm {
  readonly #ac = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #lastRenewed = Date.now();
  #ended = false;

  private constructor(
    readonly lease: StreamLease,
    /** The fencing token: larger than every earlier term's. */
    readonly fence: number,
    private readonly ttlMs: number,
    outer: AbortSignal | undefined,
    _key: typeof BEGIN,
  ) {
    this.#timer = setInterval(() => void this.#renew(), Math.max(10, ttlMs / 3));
    this.#timer.unref?.();
    if (outer) {
      if (outer.aborted) this.#end('stopped');
      else outer.addEventListener('abort', () => this.#end('stopped'), { once: true, signal: this.#ac.signal });
    }
  }

  /** @internal StreamLease.acquire's constructor. */
  static begin(lease: StreamLease, fence: number, ttlMs: number, outer?: AbortSignal): LeaseTerm {
    return new LeaseTerm(lease, fence, ttlMs, outer, BEGIN);
  }

  get stream(): string {
    return this.lease.stream;
  }

  /** Aborts when the term ends; `signal.reason` is a LeaseLostError when the lease was lost. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  get lost(): boolean {
    return this.#ac.signal.reason instanceof LeaseLostError;
  }

  async #renew(): Promise<void> {
    if (this.#ended) return;
    try {
      if (await this.lease.renew()) this.#lastRenewed = Date.now();
      else this.#end('lost', 'held by another replica or expired');
    } catch {
      if (Date.now() - this.#lastRenewed >= this.ttlMs) this.#end('lost', `not renewed for ${this.ttlMs} ms`);
    }
  }

  #end(how: TermEnd, why = ''): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    this.#ac.abort(how === 'lost' ? new LeaseLostError(this.stream, why) : how);
  }

  /** Ends the term and gives the lease up (a standby takes over at once). */
  async release(): Promise<void> {
    const wasLost = this.lost;
    this.#end('released');
    if (!wasLost) await this.lease.release().catch(() => undefined);
  }
}
