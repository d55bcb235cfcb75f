import type { IncomingMessage, ServerResponse } from 'node:http';
import { exitProcess } from '@runnel/config';
import type { Logger } from '@runnel/telemetry';
import { ProcessSignals } from './process-signals';
import { runChecks, type ReadinessCheck, type ReadinessReport } from './readiness';

export interface ServiceLifecycleOptions {
  name: string;
  logger: Logger;
  /** Upper bound on the whole drain; past it the process exits 1 so the orchestrator sees it. */
  shutdownTimeoutMs: number;
  /** How long each readiness check may take before it counts as failed. */
  checkTimeoutMs?: number;
  /** Injected for tests; defaults to process.exit. */
  exit?: (code: number) => void;
  /** Install SIGTERM/SIGINT and fatal-error handlers on the process (default true; off for in-process tests). */
  handleProcessEvents?: boolean;
  /**
   * The process's signal handlers, installed by main.ts at its first line (ProcessSignals says why):
   * `start()` takes SIGTERM/SIGINT over from them. Without, `start()` installs its own.
   */
  signals?: ProcessSignals;
}

type ShutdownStep = { name: string; run: () => Promise<void> | void };

/**
 * The process lifecycle every Runnel service shares: liveness and readiness, graceful drain on
 * SIGTERM/SIGINT with a bounded timeout, and a loud exit on fatal errors.
 *
 * Shutdown steps run in registration order, so register "stop taking work" first and "close the
 * connections that work needed" last.
 */
export class ServiceLifecycle {
  readonly #opts: Required<Omit<ServiceLifecycleOptions, 'signals'>> & Pick<ServiceLifecycleOptions, 'signals'>;
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #steps: ShutdownStep[] = [];
  #started = false;
  #draining: Promise<void> | undefined;
  /** No exit injected: the drain timeout ends the process at once, whatever is still running. */
  readonly #hardExit: boolean;

  constructor(opts: ServiceLifecycleOptions) {
    this.#hardExit = opts.exit === undefined;
    // Per key, so an explicit `undefined` from a caller still gets the default.
    this.#opts = {
      ...opts,
      checkTimeoutMs: opts.checkTimeoutMs ?? 2_000,
      // After a clean drain the loop is (nearly) empty: let it end by itself (exitProcess says why
      // process.exit can hang). The drain timeout below stays a hard process.exit.
      exit: opts.exit ?? ((code) => exitProcess(code, 1_000)),
      handleProcessEvents: opts.handleProcessEvents ?? true,
    };
  }

  get draining(): boolean {
    return this.#draining !== undefined;
  }

  addReadinessCheck(name: string, check: ReadinessCheck): this {
    this.#checks.set(name, check);
    return this;
  }

  onShutdown(name: string, run: () => Promise<void> | void): this {
    this.#steps.push({ name, run });
    return this;
  }

  async readiness(): Promise<ReadinessReport> {
    const checks = await runChecks(this.#checks, this.#opts.checkTimeoutMs);
    if (this.draining) return { status: 'draining', checks };
    if (!this.#started) return { status: 'not_ready', checks };
    return { status: Object.values(checks).every((c) => c.ok) ? 'ready' : 'not_ready', checks };
  }

  /** GET /health: the process is alive and its event loop turns. Never depends on other systems. */
  readonly healthHandler = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ status: 'ok', service: this.#opts.name }));
  };

  /** GET /ready: 200 only when started, not draining, and every dependency check passes. */
  readonly readyHandler = async (_req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const report = await this.readiness();
    res.writeHead(report.status === 'ready' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ service: this.#opts.name, ...report }));
  };

  /**
   * Marks the service started, takes SIGTERM/SIGINT over from the start-up's ProcessSignals (a signal
   * now drains, exit 0) and installs the fatal-error handlers.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const { logger } = this.#opts;
    logger.info({ pid: process.pid, node: process.version }, 'service started');
    if (!this.#opts.handleProcessEvents) return;
    (this.#opts.signals ?? ProcessSignals.install(this.#opts.name)).handOver((signal) => {
      logger.info({ signal }, 'shutdown requested');
      void this.shutdown(0);
    });
    process.on('uncaughtException', (err) => {
      logger.fatal({ err }, 'uncaught exception; shutting down');
      void this.shutdown(1);
    });
    process.on('unhandledRejection', (reason) => {
      logger.fatal({ err: reason }, 'unhandled promise rejection; shutting down');
      void this.shutdown(1);
    });
  }

  /** Drains once; later calls wait for the same drain. Exits with `code`, or 1 on timeout or a failed step. */
  shutdown(code = 0): Promise<void> {
    this.#draining ??= this.#drain(code);
    return this.#draining;
  }

  async #drain(code: number): Promise<void> {
    const { logger, shutdownTimeoutMs, exit } = this.#opts;
    const started = Date.now();
    let exitCode = code;
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: shutdownTimeoutMs }, 'drain timed out; exiting');
      if (this.#hardExit) process.exit(1);
      else exit(1);
    }, shutdownTimeoutMs);
    timer.unref();
    for (const step of this.#steps) {
      try {
        await step.run();
        logger.debug({ step: step.name }, 'shutdown step done');
      } catch (err) {
        exitCode = 1;
        logger.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    clearTimeout(timer);
    logger.info({ ms: Date.now() - started, code: exitCode }, 'shutdown complete');
    // pino writes synchronously to stdout by default, so the line above is out before exit.
    exit(exitCode);
  }
}
