import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
const NODE = join(REPO_ROOT, 'node_modules/.bin/node');

/** Builds a service bundle when missing (npm test builds first; this serves a lone jest run). */
export function ensureBuilt(app: string): string {
  const main = join(REPO_ROOT, 'dist/apps', app, 'main.js');
  if (!existsSync(main)) {
    const r = spawnSync(join(REPO_ROOT, 'node_modules/.bin/nx'), ['run', `${app}:build`], { cwd: REPO_ROOT, env: { ...process.env, NX_DAEMON: 'false' }, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`building ${app} failed`);
  }
  return main;
}

/** Every child still running: killed when the test process exits, so none outlives its run. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A built service running as a child process (Node 24), with its output kept for assertions. */
export class ServiceProcess {
  readonly child: ChildProcess;
  #out = '';
  #err = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly app: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(NODE, [ensureBuilt(app)], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d) => (this.#out += d));
    this.child.stderr!.on('data', (d) => (this.#err += d));
    live.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        live.delete(this.child);
        resolve(code);
      }),
    );
  }

  get stdout(): string {
    return this.#out;
  }

  get stderr(): string {
    return this.#err;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal`; with `killAfterMs`, SIGKILL follows if the process has not exited by then. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs?: number): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    const kill = killAfterMs === undefined ? undefined : setTimeout(() => this.running && this.child.kill('SIGKILL'), killAfterMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(kill);
    }
  }
}

/** Polls `check` until it returns a truthy value (returned), failing after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
