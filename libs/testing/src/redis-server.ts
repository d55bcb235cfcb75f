import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { Child } from './harness/child';
import { LocalServer } from './harness/local-server';
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
export class RedisServer extends LocalServer {
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
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
    const server = new RedisServer(port, dir, new Child('redis-server', 'redis-server', args, { keepBytes: 64 * 1024 }), options.dir === undefined);
    try {
      await waitForPort(port, server.proc, 10_000);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Graceful stop (redis writes its AOF); removes the temp dir unless `keepData`. */
  async stop(keepData = false): Promise<void> {
    await this.proc.stop('SIGTERM');
    this.removeDir(keepData);
  }

  /** Crash: SIGKILL, data dir kept for a restart. */
  async kill(): Promise<void> {
    await this.proc.stop('SIGKILL');
  }
}
