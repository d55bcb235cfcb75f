import type { Cluster, Redis } from 'ioredis';

/** One event of a run's log, as a client receives it: `id` is the SSE event id (the Redis stream entry id). */
export interface LoggedEvent {
  id: string;
  event: string;
  /** The event's data, already serialised to JSON text by the worker. */
  data: string;
}

export interface RunEventLogOptions {
  /** Key prefix, e.g. `runnel:agents`; tests use a fresh one. */
  prefix: string;
  /** How long a finished run's log stays readable (joinStream after the end, a late runs.wait). */
  retainSeconds: number;
}

/** A pipeline's or MULTI's replies; its first error is thrown (a discarded MULTI too). */
function resultsOf(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error('run event log: transaction discarded');
  for (const [err] of results) if (err) throw err;
  return results.map(([, value]) => value);
}

/** The log entry that ends a run's stream (never sent to clients). */
const END = '__end__';

/**
 * A run's output stream, shared by every gateway replica: one Redis stream per run
 * (`<prefix>:run:{<runId>}:events`), appended by the worker that executes the run, read by any
 * replica a client is connected to. Stream entry ids are the SSE event ids, so `joinStream` with
 * Last-Event-ID resumes exactly after the last event the client saw, with no repeats.
 *
 * Readers wait for new entries on one pub/sub subscription per replica (a notification per append)
 * instead of a blocking XREAD per client: a thousand open streams cost one connection, not a
 * thousand. A notification only says "look again"; the entries themselves are always read from the
 * stream, so a lost notification delays nothing past the next one, and the reader re-checks every
 * `pollMs` anyway (a replica that missed the end of a run still finishes its stream).
 */
export class RunEventLog {
  readonly #waiters = new Map<string, Set<() => void>>();
  #subscribed = false;

  constructor(
    private readonly redis: Redis | Cluster,
    /** A connection of its own for SUBSCRIBE (a subscribed connection can do nothing else). */
    private readonly subscriber: Redis | Cluster,
    private readonly options: RunEventLogOptions,
    private readonly pollMs = 1_000,
  ) {}

  key(runId: string): string {
    return `${this.options.prefix}:run:{${runId}}:events`;
  }

  get #channel(): string {
    return `${this.options.prefix}:run-events`;
  }

  /** Appends one event; returns its id. */
  async append(runId: string, event: string, data: string): Promise<string> {
    // One round trip: the notification right behind the entry (in order on the connection, so a
    // woken reader finds it). In a Redis Cluster the pipeline goes to the key's node; PUBLISH has
    // no key, and any node's PUBLISH reaches every subscriber of the cluster.
    const results = await this.redis.pipeline().xadd(this.key(runId), '*', 'e', event, 'd', data).publish(this.#channel, runId).exec();
    return resultsOf(results)[0] as string;
  }

  /** Marks the run's stream finished (readers stop) and lets it expire after `retainSeconds`. */
  async end(runId: string): Promise<void> {
    const key = this.key(runId);
    // One MULTI, one slot (the key's; PUBLISH has none): the end, its expiry and its notification.
    resultsOf(await this.redis.multi().xadd(key, '*', 'e', END, 'd', '').expire(key, this.options.retainSeconds).publish(this.#channel, runId).exec());
  }

  /** Whether the run's stream has ended (its last entry is the end marker). */
  async ended(runId: string): Promise<boolean> {
    const last = (await this.redis.xrevrange(this.key(runId), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last.length > 0 && last[0][1][1] === END;
  }

  /** The id of the newest entry, or '0-0' when there is none (a live join starts after it). */
  async lastId(runId: string): Promise<string> {
    const last = (await this.redis.xrevrange(this.key(runId), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last.length > 0 ? last[0][0] : '0-0';
  }

  /**
   * The run's events after `after` ('0-0' for all of them) until the run's end, or until `signal`
   * aborts. A run whose log does not exist yet (queued, not started) is waited for; `stillExpected`
   * is asked every `pollMs` while nothing arrives, and the read ends when it says no (the run was
   * deleted, or its log expired).
   */
  async *read(runId: string, after: string, signal?: AbortSignal, stillExpected?: () => Promise<boolean>): AsyncGenerator<LoggedEvent> {
    await this.#subscribe();
    const key = this.key(runId);
    let cursor = after;
    let wake: (() => void) | undefined;
    let notified = false;
    const waiter = (): void => {
      notified = true;
      wake?.();
    };
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    this.#addWaiter(runId, waiter);
    try {
      while (!signal?.aborted) {
        notified = false;
        const entries = (await this.redis.xrange(key, `(${cursor}`, '+', 'COUNT', 500)) as [string, string[]][];
        for (const [id, fields] of entries) {
          cursor = id;
          const event = fields[1];
          if (event === END) return;
          yield { id, event, data: fields[3] };
          if (signal?.aborted) return;
        }
        if (entries.length === 500 || notified) continue;
        const timedOut = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), this.pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = undefined;
        if (timedOut && stillExpected && !(await stillExpected())) {
          // One last look: the end may have been appended between the read and the check.
          const rest = (await this.redis.xrange(key, `(${cursor}`, '+')) as [string, string[]][];
          for (const [id, fields] of rest) {
            if (fields[1] === END) return;
            yield { id, event: fields[1], data: fields[3] };
          }
          return;
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#removeWaiter(runId, waiter);
    }
  }

  async close(): Promise<void> {
    for (const set of this.#waiters.values()) for (const w of set) w();
    this.#waiters.clear();
  }

  async #subscribe(): Promise<void> {
    if (this.#subscribed) return;
    this.#subscribed = true;
    this.subscriber.on('message', (channel: string, runId: string) => {
      if (channel !== this.#channel) return;
      const set = this.#waiters.get(runId);
      if (set) for (const w of set) w();
    });
    try {
      await this.subscriber.subscribe(this.#channel);
    } catch (err) {
      this.#subscribed = false;
      throw err;
    }
  }

  #addWaiter(runId: string, waiter: () => void): void {
    let set = this.#waiters.get(runId);
    if (!set) this.#waiters.set(runId, (set = new Set()));
    set.add(waiter);
  }

  #removeWaiter(runId: string, waiter: () => void): void {
    const set = this.#waiters.get(runId);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) this.#waiters.delete(runId);
  }
}
