import { constants } from 'node:os';
// The file itself, not @runnel/config's index: that loads zod, and this module loads first.
import { exitProcess } from '@runnel/config/exit-process';

/**
 * SIGTERM/SIGINT for a service's whole life, installed by its main.ts before anything else loads.
 *
 * Why from the first line: in a container the service is PID 1, and the kernel gives PID 1 no
 * default signal action — a signal it has no handler for is dropped, not fatal. A service that
 * installed its handlers only once started (ServiceLifecycle.start) ignored `docker stop` /
 * `podman stop` / a pod deletion for as long as start-up lasted (loading its modules, ~0.6 s;
 * then retrying an unreachable Redis, PostgreSQL or S3 with backoff, for ever) and was killed
 * (137) at the end of the grace period.
 *
 * Two phases:
 * - start-up: a signal aborts `signal` (start-up loops and connection attempts take it and stop at
 *   once), writes ONE line to stderr naming what start-up was waiting for, and ends the process
 *   with 128 + the signal's number, as shells report it: 143 for SIGTERM, 130 for SIGINT. The
 *   code is non-zero because the service never ran; it is not 1 so that an operator tells "stopped
 *   while starting" from "failed to start" (1).
 * - started: the ServiceLifecycle takes the signals over (`handOver`) for its graceful drain
 *   (exit 0, bounded by SHUTDOWN_TIMEOUT).
 *
 * This module imports only Node's own and @runnel/config's exit-process file (the libs' indexes load zod): main.ts imports
 * it first so that the handlers are in place ~30 ms into the process, not after its dependencies.
 */
export type StopSignal = 'SIGTERM' | 'SIGINT';

const STOP_SIGNALS: readonly StopSignal[] = ['SIGTERM', 'SIGINT'];

/** How long an interrupted start-up may take to let go of its connections before process.exit. */
const INTERRUPT_EXIT_GRACE_MS = 300;

export interface ProcessSignalsOptions {
  /** Where the signals come from (the process; an EventEmitter in tests). */
  events?: { on(event: StopSignal, listener: () => void): unknown };
  /** Where the interruption line goes (stderr: no logger exists yet at the first line). */
  write?: (line: string) => void;
  /**
   * Ends the process after an interrupted start-up. Default: set the exit code and let the event
   * loop empty once the aborted start-up has closed its connections, process.exit 300 ms later
   * should anything still hold it (exitProcess in @runnel/config says why not process.exit at once).
   */
  exit?: (code: number, graceMs: number) => void;
}

/** The exit code of a start-up interrupted by `signal`: 128 + its number (143 SIGTERM, 130 SIGINT). */
export function interruptedExitCode(signal: StopSignal): number {
  return 128 + constants.signals[signal];
}

/** `scheme://host:port` of a connection URL, for log lines: no user, password, path or query. */
export function endpointOf(url: string | { reveal(): string }): string {
  const text = typeof url === 'string' ? url : url.reveal();
  try {
    const u = new URL(text);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unparsable URL)';
  }
}

export class ProcessSignals {
  readonly #service: string;
  readonly #controller = new AbortController();
  readonly #write: (line: string) => void;
  readonly #exit: (code: number, graceMs: number) => void;
  #waitingFor: (() => string) | undefined;
  #onSignal: ((signal: StopSignal) => void) | undefined;
  #interrupted: StopSignal | undefined;

  /** Installs the handlers. Call it first in main.ts, through a module imported before all others. */
  static install(service: string, options: ProcessSignalsOptions = {}): ProcessSignals {
    return new ProcessSignals(service, options);
  }

  private constructor(service: string, options: ProcessSignalsOptions) {
    this.#service = service;
    this.#write = options.write ?? ((line) => void process.stderr.write(line));
    this.#exit = options.exit ?? exitProcess;
    const events = options.events ?? process;
    for (const signal of STOP_SIGNALS) events.on(signal, () => this.#receive(signal));
  }

  /** Aborted when a signal interrupts start-up: what start-up waits on should stop at once. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The signal that interrupted start-up, if one did. */
  get interrupted(): StopSignal | undefined {
    return this.#interrupted;
  }

  /**
   * Names what start-up is waiting for (e.g. "Redis at redis://redis:6379 not reachable yet"),
   * for the interruption line; a function is asked at the moment of the signal. Returns the undo.
   */
  waitingFor(what: string | (() => string)): () => void {
    const describe = typeof what === 'string' ? () => what : what;
    this.#waitingFor = describe;
    return () => {
      if (this.#waitingFor === describe) this.#waitingFor = undefined;
    };
  }

  /** Start-up is over: from now on `onSignal` gets every SIGTERM/SIGINT (the lifecycle's drain). */
  handOver(onSignal: (signal: StopSignal) => void): void {
    // Interrupted already: the process is on its way out with the interruption's code.
    if (this.#interrupted) return;
    this.#waitingFor = undefined;
    this.#onSignal = onSignal;
  }

  /**
   * main.ts's answer to a start function that threw: "failed to start" and exit 1 — or nothing more
   * when the throw is start-up giving up on an interruption (its line is written already).
   */
  readonly startFailed = (err: unknown): void => {
    if (this.#interrupted) return;
    this.#write(`${this.#service}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    this.#exit(1, 2_000);
  };

  #receive(signal: StopSignal): void {
    if (this.#onSignal) return this.#onSignal(signal);
    // A second signal while the interrupted start-up winds down changes nothing: it ends within 300 ms.
    if (this.#interrupted) return;
    this.#interrupted = signal;
    const code = interruptedExitCode(signal);
    const waiting = this.#waitingFor?.();
    this.#write(`${this.#service}: start-up interrupted by ${signal}${waiting ? ` (${waiting})` : ''}; exiting with ${code}\n`);
    this.#exit(code, INTERRUPT_EXIT_GRACE_MS);
    this.#controller.abort(new StartupInterruptedError(signal));
  }
}

/** What start-up steps reject with once a signal has interrupted start-up. */
export class StartupInterruptedError extends Error {
  constructor(readonly signal: StopSignal) {
    super(`start-up interrupted by ${signal}`);
    this.name = 'StartupInterruptedError';
  }
}
