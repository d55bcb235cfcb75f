import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, escapeIdentifier } from 'pg';
import { freePort } from './free-port';
import { Child } from './harness/child';
import { LocalServer } from './harness/local-server';

export interface PostgresServerOptions {
  /** Reuse a directory from an earlier start (to restart on the same data after `stop(true)` or `kill()`). */
  dir?: string;
  port?: number;
  /** More `postgres` arguments, e.g. `['-c', 'max_connections=200']`. */
  extraArgs?: string[];
  /** How long to wait for the first `SELECT 1` (crash recovery after `kill()` included). */
  readyTimeoutMs?: number;
}

/**
 * A real PostgreSQL (Debian's `postgresql` package) on a free loopback port, its cluster in a
 * temporary directory: `<dir>/data` (initdb: trust auth, superuser `postgres`, UTF8, C locale), the
 * unix socket in `<dir>`. fsync is off (a killed server loses nothing: its writes are in the page
 * cache; only an OS crash could), synchronous_commit stays on. As root, initdb and postgres run as
 * the `postgres` system user (PostgreSQL refuses root), which then owns `<dir>`.
 * Stop it with `stop()` (fast shutdown by pid) or `kill()` (SIGKILL to its whole process group, for
 * crash tests); `start({ dir })` starts again on the same data.
 */
export class PostgresServer extends LocalServer {
  /** The superuser's connection string for database `postgres`. */
  get url(): string {
    return this.urlFor('postgres');
  }

  // pid: the postmaster's, also its process group's id.

  urlFor(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const bin = postgresBinDir();
    const port = options.port ?? (await freePort());
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'runnel-postgres-'));
    const data = join(dir, 'data');
    mkdirSync(dir, { recursive: true });
    const user = process.getuid?.() === 0 ? postgresUser() : undefined;
    if (user) chownSync(dir, user.uid, user.gid);
    if (!existsSync(join(data, 'PG_VERSION'))) {
      const init = spawnSync(
        join(bin, 'initdb'),
        ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
        { cwd: dir, encoding: 'utf8', ...user },
      );
      if (init.status !== 0) throw new Error(`initdb exited with ${init.status ?? init.signal}: ${`${init.stderr}${init.stdout}`.slice(-1000)}`);
    }
    const args = [
      '-D', data,
      '-p', String(port),
      '-h', '127.0.0.1',
      '-k', dir,
      '-c', 'fsync=off',
      '-c', 'logging_collector=off',
      ...(options.extraArgs ?? []),
    ];
    // Its own process group: kill() takes the backends down with the postmaster, as a crash would
    // (and so does the parent's exit). Its log's last 16 KiB are kept, for the error should it exit.
    const child = new Child('postgres', join(bin, 'postgres'), args, { cwd: dir, detached: true, keepBytes: 16_384, ...user });
    const server = new PostgresServer(port, dir, child, options.dir === undefined);
    const exited = child.exited.then((how) => Promise.reject(new Error(`postgres exited with ${how}: ${child.output.slice(-1000)}`)));
    exited.catch(() => undefined);
    try {
      await Promise.race([waitForPostgres(server.url, options.readyTimeoutMs ?? 30_000), exited]);
    } catch (err) {
      await server.kill();
      server.removeDir();
      throw err;
    }
    return server;
  }

  /** A new, empty database (one per test file keeps files apart); returns its connection string. */
  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.url });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
    } finally {
      await client.end();
    }
    return this.urlFor(name);
  }

  /**
   * Fast shutdown (SIGINT: open sessions are ended, a checkpoint written), waiting for the
   * postmaster to exit; removes the temp dir unless `keepData` (or the dir was given to start()).
   */
  async stop(keepData = false): Promise<void> {
    await this.proc.stop('SIGINT');
    await groupGone(this.pid, 10_000).catch(() => this.#killGroup());
    this.removeDir(keepData);
  }

  /** Crash: SIGKILL to the postmaster and its backends; the data dir is kept for a restart. */
  async kill(): Promise<void> {
    await this.#killGroup();
  }

  async #killGroup(): Promise<void> {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
    await this.proc.exited;
    await groupGone(this.pid, 10_000);
  }
}

/**
 * The directory of Debian's PostgreSQL server binaries (`/usr/lib/postgresql/<major>/bin`, the
 * newest if several), else `pg_config --bindir`. POSTGRES_BINDIR overrides both.
 */
export function postgresBinDir(): string {
  if (process.env.POSTGRES_BINDIR) return process.env.POSTGRES_BINDIR;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length > 0) return join(root, majors[0], 'bin');
  try {
    const bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(bin, 'postgres'))) return bin;
  } catch {
    // no pg_config either
  }
  throw new Error('no PostgreSQL server found (/usr/lib/postgresql/*/bin/postgres): apt-get install postgresql (tools/dev/ensure-deps.sh --test does)');
}

function postgresUser(): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as (Debian\'s postgresql package creates it)');
  }
}

async function waitForPostgres(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL at ${url} not ready after ${timeoutMs} ms: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Until no live process is left in group `pgid` (the backends exit after the postmaster). */
async function groupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) throw new Error(`processes of group ${pgid} still running after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Whether a process other than a zombie is in group `pgid`: kill(-pgid, 0) also counts zombies,
 * which stay until whoever inherited the orphaned backends reaps them. Linux's /proc.
 */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}
