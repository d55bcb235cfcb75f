import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { killAtExit } from './at-exit';

/** The monorepo root: up from this file (sources), or from the working directory (bundled tools). */
function findRepoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    let dir = start;
    for (;;) {
      if (existsSync(join(dir, 'nx.json'))) return dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error('cannot find the repository root (nx.json)');
}

export const REPO_ROOT = findRepoRoot();
/** Node 24, the project's pinned `node` devDependency (the system's may be older). */
export const NODE = join(REPO_ROOT, 'node_modules/.bin/node');

export interface ChildOptions {
  /** On top of childEnv()'s small base: nothing else of this process's environment is passed on. */
  env?: Record<string, string | undefined>;
  /** Opens an IPC channel (child.send / nextMessage). */
  ipc?: boolean;
  /** Raises RLIMIT_NOFILE for this child only (`ulimit -n` then exec: the pid, env and IPC fd stay). */
  nofile?: number | string;
  cwd?: string;
  /** How much of stdout and of stderr is kept, each (the newest). Default 1 MiB. */
  keepBytes?: number;
  /** Its own process group (a server whose workers must die with it: killed as a group at exit). */
  detached?: boolean;
  /** Run as this user (a server that refuses root, e.g. PostgreSQL). */
  uid?: number;
  gid?: number;
}

/**
 * The environment a child starts with: PATH (the repo's node_modules/.bin first), HOME and LANG, and
 * what the caller adds. Nothing else leaks in from the shell that runs the tool (OTEL_*, NODE_OPTIONS,
 * AWS_*, provider keys), so a measurement or test does not depend on who runs it.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = { PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '/tmp', LANG: process.env.LANG ?? 'C.UTF-8', ...extra };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Every child still running (each is also killed when this process exits: killAtExit). */
const live = new Set<Child>();

/** The children still running (the newest last). */
export function liveChildren(): Child[] {
  return [...live];
}

/** Output kept from one stream: the newest `limit` bytes. */
class OutputTail {
  #chunks: string[] = [];
  #length = 0;
  constructor(private readonly limit: number) {}
  push(s: string): void {
    this.#chunks.push(s);
    this.#length += s.length;
    while (this.#length > this.limit && this.#chunks.length > 1) this.#length -= this.#chunks.shift()!.length;
  }
  get text(): string {
    const t = this.#chunks.join('');
    return t.length > this.limit ? t.slice(-this.limit) : t;
  }
}

/**
 * A process started by a test or tool: tracked by pid, its output kept (stdout, stderr, and both
 * interleaved), stopped with SIGTERM and then SIGKILL, killed if the parent exits first.
 */
export class Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code, or the signal's name when a signal ended it. */
  readonly exited: Promise<number | string | null>;
  exitCode: number | string | null = null;
  readonly #stdout: OutputTail;
  readonly #stderr: OutputTail;
  readonly #both: OutputTail;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    { env = {}, ipc = false, nofile, cwd = REPO_ROOT, keepBytes = 1024 * 1024, detached = false, uid, gid }: ChildOptions = {},
  ) {
    let cmd = command;
    let argv = args;
    if (nofile !== undefined) {
      cmd = '/bin/sh';
      argv = ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, command, ...args];
    }
    this.proc = spawn(cmd, argv, { cwd, env: childEnv(env), detached, uid, gid, stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'] });
    if (this.proc.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    this.pid = this.proc.pid;
    this.#stdout = new OutputTail(keepBytes);
    this.#stderr = new OutputTail(keepBytes);
    this.#both = new OutputTail(keepBytes);
    this.proc.stdout!.on('data', (d: Buffer) => (this.#stdout.push(String(d)), this.#both.push(String(d))));
    this.proc.stderr!.on('data', (d: Buffer) => (this.#stderr.push(String(d)), this.#both.push(String(d))));
    live.add(this);
    const forget = killAtExit(detached ? -this.pid : this.pid);
    this.exited = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        live.delete(this);
        forget();
        this.exitCode = code ?? signal;
        resolve(this.exitCode);
      }),
    );
  }

  /** A Node script run with the project's Node 24; `nodeArgs` go before it. */
  static node(name: string, script: string, args: string[] = [], options: ChildOptions & { nodeArgs?: string[] } = {}): Child {
    return new Child(name, NODE, [...(options.nodeArgs ?? []), script, ...args], options);
  }

  get stdout(): string {
    return this.#stdout.text;
  }

  get stderr(): string {
    return this.#stderr.text;
  }

  /** stdout and stderr as they came. */
  get output(): string {
    return this.#both.text;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The last `lines` lines of its output, for an error message. */
  tail(lines = 30): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /** Sends `signal`; with `killAfterMs`, SIGKILL follows if it has not exited by then. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs?: number): Promise<number | string | null> {
    if (!this.running) return this.exited;
    this.proc.kill(signal);
    const kill = killAfterMs === undefined ? undefined : setTimeout(() => this.kill(), killAfterMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(kill);
    }
  }

  /** SIGKILL now, if still running. */
  kill(): void {
    if (this.running) this.proc.kill('SIGKILL');
  }

  /**
   * The first match of `pattern` in its output (stdout and stderr as they came), e.g. the port a
   * server prints; rejects with the output's tail when it exits first or the time runs out.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this.output);
        if (m) done(() => resolve(m));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: no output matching ${pattern} within ${timeoutMs} ms:\n${this.tail()}`))), timeoutMs);
      const onExit = () => done(() => reject(new Error(`${this.name} exited (${this.exitCode}) before printing ${pattern}:\n${this.tail()}`)));
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.proc.stdout!.off('data', check);
        this.proc.stderr!.off('data', check);
        this.proc.off('exit', onExit);
        settle();
      };
      // Listeners added after the constructor's: each sees the output with the new chunk in it.
      this.proc.stdout!.on('data', check);
      this.proc.stderr!.on('data', check);
      this.proc.on('exit', onExit);
      check();
    });
  }

  send(message: Record<string, unknown>): void {
    this.proc.send(message);
  }

  /** The next IPC message of this `type`; rejects with its output's tail when it exits first or the time runs out. */
  nextMessage<T extends Record<string, unknown> = Record<string, unknown>>(type: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no '${type}' message within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const on = (m: Record<string, unknown>) => {
        if (m?.type !== type) return;
        cleanup();
        resolve(m as T);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`${this.name} exited (${this.exitCode}) before '${type}':\n${this.tail()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.proc.off('message', on);
        this.proc.off('exit', onExit);
      };
      this.proc.on('message', on);
      this.proc.on('exit', onExit);
    });
  }
}
