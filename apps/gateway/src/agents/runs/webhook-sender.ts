import type { Logger } from '@runnel/telemetry';
import { pause } from '@runnel/service';
import type { Run, RunStatus } from '../agent-types';
import { serializeData } from '../execution/serialize-event';

/** What a finished run's webhook carries besides the run (the reference's payload). */
export interface WebhookOutcome {
  /** The run's final values: its root graph's last checkpoint, or for a stateless run (no checkpoints) its last streamed state. */
  values?: unknown;
  /** The error message of a failed run. */
  error?: string;
}

export interface WebhookSenderOptions {
  logger: Logger;
  /** Attempts per webhook, the first included (4). */
  attempts?: number;
  /** Wait before the 2nd attempt (500 ms); doubled before each later one (1 s, 2 s). */
  backoffMs?: number;
  /** One attempt's limit, connection to response (10 s). */
  timeoutMs?: number;
  /** Webhooks being sent at once at most; more are dropped (logged). */
  maxInFlight?: number;
  fetch?: typeof fetch;
}

/**
 * The URL as it may be logged: scheme, host, port and path. Its userinfo, query string and fragment
 * are left out: webhook URLs often carry a token there.
 */
export function loggableUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** Whether an answer is worth another attempt: the receiver is overloaded or failing, not refusing. */
const retryable = (status: number) => status >= 500 || status === 429 || status === 408;

/**
 * Sends a finished run's webhook: a POST of the run with `status`, `run_started_at`,
 * `run_ended_at`, `webhook_sent_at`, `values` and `error` as JSON (the reference's payload), when
 * the run ends `success`, `error`, `interrupted` or `timeout`. Unlike the reference (one attempt),
 * a network error, a timeout (10 s) or a 5xx/429/408 answer is retried with backoff (4 attempts:
 * after 0.5, 1 and 2 s); other 4xx answers are final. Sending never holds up the worker: `send`
 * returns at once, the webhook goes on in the background, at most `maxInFlight` at a time; `drain`
 * waits for them a little at shutdown, then abandons the rest. Logs name the URL without its
 * query string or userinfo.
 */
export class WebhookSender {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #fetch: typeof fetch;

  constructor(private readonly o: WebhookSenderOptions) {
    this.#attempts = Math.max(1, o.attempts ?? 4);
    this.#backoffMs = o.backoffMs ?? 500;
    this.#timeoutMs = o.timeoutMs ?? 10_000;
    this.#maxInFlight = o.maxInFlight ?? 256;
    this.#fetch = o.fetch ?? fetch;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Starts sending the run's webhook (if it has one) and returns at once. The worker that ran it
   * gives the outcome: nothing is read back (a stateless run's thread is gone by now, and its event
   * log holds values only when the run streamed them).
   */
  send(run: Run, status: RunStatus, outcome: WebhookOutcome, endedAt = new Date()): void {
    const url = run.kwargs.webhook;
    if (!url || this.#abort.signal.aborted) return;
    if (this.#inFlight.size >= this.#maxInFlight) {
      this.o.logger.warn({ runId: run.run_id, url: loggableUrl(url), inFlight: this.#inFlight.size }, 'webhook dropped: too many being sent');
      return;
    }
    const sending = this.#deliver(run, status, outcome, url, endedAt).finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
  }

  /** Waits up to `ms` for the webhooks being sent, then abandons the rest. */
  async drain(ms: number): Promise<void> {
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.#inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    }
    if (this.#inFlight.size > 0) this.o.logger.warn({ abandoned: this.#inFlight.size }, 'webhooks abandoned at shutdown');
    this.#abort.abort();
  }

  async #deliver(run: Run, status: RunStatus, outcome: WebhookOutcome, url: string, endedAt: Date): Promise<void> {
    const where = { runId: run.run_id, url: loggableUrl(url) };
    const body: Record<string, unknown> = {
      ...run,
      status,
      run_started_at: run.updated_at,
      run_ended_at: endedAt.toISOString(),
      values: outcome.values,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    };
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (this.#abort.signal.aborted) return;
      const result = await this.#attempt(url, { ...body, webhook_sent_at: new Date().toISOString() });
      if (this.#abort.signal.aborted) return; // abandoned at shutdown (drain logged it)
      if (result.ok) {
        this.o.logger.info({ ...where, status: result.status, attempt }, 'webhook sent');
        return;
      }
      const last = attempt === this.#attempts || !result.retry;
      this.o.logger.warn({ ...where, attempt, status: result.status, error: result.error, final: last }, last ? 'webhook failed' : 'webhook attempt failed; retrying');
      if (last) return;
      // Cut short (resolved) by shutdown: the loop's aborted check then ends it.
      await pause(this.#backoffMs * 2 ** (attempt - 1), this.#abort.signal);
    }
  }

  async #attempt(url: string, payload: unknown): Promise<{ ok: boolean; retry: boolean; status?: number; error?: string }> {
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeoutMs)]);
    try {
      const res = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'runnel-gateway' },
        body: serializeData(payload),
        signal,
        redirect: 'manual',
      });
      // The receiver's answer is not read, only released.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, retry: false, status: res.status };
      return { ok: false, retry: retryable(res.status), status: res.status };
    } catch (err) {
      // Network errors and timeouts; their messages name no URL (undici: "fetch failed", the cause's code).
      const e = err as Error & { cause?: { code?: unknown } };
      const code = typeof e.cause?.code === 'string' ? e.cause.code : undefined;
      return { ok: false, retry: true, error: e.name === 'TimeoutError' ? 'timeout' : (code ?? e.name) };
    }
  }
}
