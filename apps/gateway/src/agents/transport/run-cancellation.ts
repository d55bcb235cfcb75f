import type { Cluster, Redis } from 'ioredis';

export type CancelAction = 'interrupt' | 'rollback';

/**
 * The abort reason a cancelled run's graph sees (its `signal.reason`). Thrown out of the run's
 * stream when a client cancels the run (`runs.cancel`, multitask `interrupt`/`rollback`, or a
 * disconnect with `onDisconnect: cancel`).
 */
export class RunCancelledError extends Error {
  constructor(readonly action: CancelAction) {
    super(`run cancelled (${action})`);
    this.name = 'RunCancelledError';
  }
}

/**
 * Cancels a run wherever it executes. A cancel is recorded in Redis (`<prefix>:run:{<id>}:cancel`,
 * kept `retainSeconds`) and announced on one pub/sub channel: the replica running the run aborts it
 * at once; a worker that claims the run later (the cancel came between queueing and claiming)
 * finds the record when it watches the run and aborts it as it starts, before its first step.
 */
export class RunCancellation {
  readonly #running = new Map<string, AbortController>();
  #subscribed = false;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly subscriber: Redis | Cluster,
    private readonly options: { prefix: string; retainSeconds: number },
  ) {}

  get #channel(): string {
    return `${this.options.prefix}:run-cancel`;
  }

  #key(runId: string): string {
    return `${this.options.prefix}:run:{${runId}}:cancel`;
  }

  /** Asks for the run to stop, on whichever replica it runs. */
  async cancel(runId: string, action: CancelAction): Promise<void> {
    await this.redis.set(this.#key(runId), action, 'EX', this.options.retainSeconds);
    await this.redis.publish(this.#channel, JSON.stringify({ runId, action }));
  }

  /** The cancel recorded for a run, if any. */
  async requested(runId: string): Promise<CancelAction | undefined> {
    const v = await this.redis.get(this.#key(runId));
    return v === 'interrupt' || v === 'rollback' ? v : undefined;
  }

  /**
   * Called by the worker when it starts a run: the returned signal aborts with RunCancelledError when
   * the run is cancelled (also if it was cancelled before this call), or with `reason` via `controller`.
   */
  async watch(runId: string, controller: AbortController): Promise<() => void> {
    await this.#subscribe();
    this.#running.set(runId, controller);
    const already = await this.requested(runId);
    if (already) controller.abort(new RunCancelledError(already));
    return () => {
      if (this.#running.get(runId) === controller) this.#running.delete(runId);
    };
  }

  async #subscribe(): Promise<void> {
    if (this.#subscribed) return;
    this.#subscribed = true;
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      let parsed: { runId?: unknown; action?: unknown };
      try {
        parsed = JSON.parse(message);
      } catch {
        return;
      }
      const controller = typeof parsed.runId === 'string' ? this.#running.get(parsed.runId) : undefined;
      if (controller && !controller.signal.aborted) controller.abort(new RunCancelledError(parsed.action === 'rollback' ? 'rollback' : 'interrupt'));
    });
    try {
      await this.subscriber.subscribe(this.#channel);
    } catch (err) {
      this.#subscribed = false;
      throw err;
    }
  }
}
