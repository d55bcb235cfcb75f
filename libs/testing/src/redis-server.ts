import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { killChildAtExit } from './harness/at-exit';
import { waitForPort } from './harness/wait-for';

export interface RedisServerOptions {
  /** appendonly yes + noeviction, as production must run; off only to test the start-up check. */
  durable?: boolean;
  /** Reuse a data directory (to restart on the same AOF). */
  dir?: string;
  port?: number;
  /** More redis-server arguments, e.g. cluster mode. */
  extraArgs?: string[];
}

/**
 * A real `redis-server` (Debian's package) on a free loopback port in a temporary directory.
 * Stop it with `stop()` (SIGTERM by pid) or `kill()` (SIGKILL, for crash tests).
 */
export class RedisServer {
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly child: ChildProcess,
    private readonly ownsDir: boolean,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'runnel-redis-'));
    const durable = options.durable ?? true;
    const args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--save', '',
      '--appendonly', durable ? 'yes' : 'no',
      '--appendfsync', 'everysec',
      '--maxmemory-policy', durable ? 'noeviction' : 'allkeys-lru',
      '--protected-mode', 'no',
      ...(options.extraArgs ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    killChildAtExit(child); // never outlives the test or tool that started it
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, undefined, 10_000), exited]);
    return new RedisServer(port, dir, child, options.dir === undefined);
  }

  /** Graceful stop (redis writes its AOF); removes the temp dir unless `keepData`. */
  async stop(keepData = false): Promise<void> {
    await this.#signal('SIGTERM');
    if (this.ownsDir && !keepData) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Crash: SIGKILL, data dir kept for a restart. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill(signal);
    await done;
  }
}
