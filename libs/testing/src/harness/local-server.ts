import { rmSync } from 'node:fs';
import { atExit } from './at-exit';
import type { Child } from './child';

/**
 * A server the harness runs for tests and tools (redis-server, s3rver, PostgreSQL): its process, a
 * Child (killed if the parent exits first), on a loopback port, with its data in a directory. A
 * directory it made itself it also removes: on stop() (unless the data is to be kept for a restart)
 * and when the parent exits, so an interrupted tool leaves no temp dirs behind.
 */
export abstract class LocalServer {
  readonly #forgetDir: () => void;

  protected constructor(
    readonly port: number,
    readonly dir: string,
    protected readonly proc: Child,
    protected readonly ownsDir: boolean,
  ) {
    // Registered after the process's own kill (at spawn), so at exit the process dies first.
    this.#forgetDir = ownsDir ? atExit(() => rmSync(dir, { recursive: true, force: true })) : () => undefined;
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Its output so far (the newest part), for an error message. */
  get output(): string {
    return this.proc.output;
  }

  /** Removes the directory if this server made it, unless `keepData`. */
  protected removeDir(keepData = false): void {
    if (!this.ownsDir || keepData) return;
    rmSync(this.dir, { recursive: true, force: true });
    this.#forgetDir();
  }
}
