import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Child, type ChildOptions, NODE, REPO_ROOT } from './harness/child';

/** Builds a service bundle when missing (npm test builds first; this serves a lone jest run). */
export function ensureBuilt(app: string): string {
  const main = join(REPO_ROOT, 'dist/apps', app, 'main.js');
  if (!existsSync(main)) {
    const r = spawnSync(join(REPO_ROOT, 'node_modules/.bin/nx'), ['run', `${app}:build`], { cwd: REPO_ROOT, env: { ...process.env, NX_DAEMON: 'false' }, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`building ${app} failed`);
  }
  return main;
}

/**
 * A built service (dist/apps/<app>/main.js) running as a child process with Node 24: `env` is all
 * of its configuration (on top of childEnv's PATH, HOME and LANG), its output kept for assertions.
 */
export class ServiceProcess extends Child {
  constructor(
    readonly app: string,
    env: Record<string, string>,
    options: Omit<ChildOptions, 'env'> & { nodeArgs?: string[]; main?: string } = {},
  ) {
    super(app, NODE, [...(options.nodeArgs ?? []), options.main ?? ensureBuilt(app)], { keepBytes: 16 * 1024 * 1024, ...options, env });
  }

  /** The Node child process itself (signals such as SIGSTOP/SIGCONT, its pid). */
  get child(): ChildProcess {
    return this.proc;
  }
}
