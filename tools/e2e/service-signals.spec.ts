import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Child, ensureBuilt, eventually, freePort, NODE, RedisServer } from '@runnel/testing';

/**
 * Every service stops on SIGTERM as a container's PID 1 — before, during and after start-up — run
 * as PID 1 of a new PID namespace (`unshare --pid --fork --mount-proc`, root only), no containers.
 *
 * PID 1 has no default signal action: a SIGTERM it does not handle itself is dropped, which is why
 * a service that installed its handlers only once started ignored `podman stop` while it retried an
 * unreachable Redis (killed, 137). `unshare` does not forward signals, so the spec signals the
 * service's host pid (found in /proc/<unshare>/task/<tid>/children, checked to be 1 in its namespace).
 *
 * Start-up interrupted: 143 within a second and ONE line naming what it waited for, no secrets.
 * Started: the graceful drain, exit 0 within SHUTDOWN_TIMEOUT.
 */
/** Bundles to run: dist/apps/<app>/main.js, or <SIGNALS_SPEC_BUNDLES>/<app>/main.js (to measure another build, e.g. one before a fix). */
const bundle = (app: string) => (process.env.SIGNALS_SPEC_BUNDLES ? join(process.env.SIGNALS_SPEC_BUNDLES, app, 'main.js') : ensureBuilt(app));
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
const SHUTDOWN_TIMEOUT_S = 5;
/** "Within a second", with room for a loaded CI machine; the measured times are printed. */
const INTERRUPT_BOUND_MS = 1_500;
/**
 * A signal that comes while the bundle's modules load is handled once that synchronous loading is
 * over (no JS runs before): the rest of ~0.5–0.7 s on an idle machine, several times that on a busy one.
 */
const WHILE_LOADING_BOUND_MS = 3_000;
const PASSWORD = 'pw-must-not-leak';

type Exit = { code: number | string | null; ms: number } | 'still running';

/** A built service as PID 1 of its own PID namespace. */
class Pid1Service {
  readonly #unshare: Child;
  #pid: number | undefined;

  constructor(
    readonly app: string,
    env: Record<string, string>,
  ) {
    this.#unshare = new Child(app, 'unshare', ['--pid', '--fork', '--mount-proc', NODE, bundle(app)], {
      env: { METRICS_PORT: '0', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_S), ...env },
    });
  }

  get stdout(): string {
    return this.#unshare.stdout;
  }

  get stderr(): string {
    return this.#unshare.stderr;
  }

  /** The service's pid on this host, once `unshare` has forked it; it is 1 in its own namespace. */
  async hostPid(): Promise<number> {
    if (this.#pid) return this.#pid;
    const outer = this.#unshare.pid;
    const pid = await eventually('the forked service', () => Number(readFileSync(`/proc/${outer}/task/${outer}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined, 5_000, 5);
    const nspid = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1].split(/\s+/);
    expect(nspid).toEqual([String(pid), '1']);
    return (this.#pid = pid);
  }

  /** SIGTERM to the service itself; its exit code and how long after the signal it came. */
  async terminate(waitMs = SHUTDOWN_TIMEOUT_S * 1_000 + 2_000): Promise<Exit> {
    const pid = await this.hostPid();
    const sent = Date.now();
    process.kill(pid, 'SIGTERM');
    const outcome = await Promise.race([this.#unshare.exited.then((code) => ({ code, ms: Date.now() - sent })), new Promise<'still running'>((r) => setTimeout(() => r('still running'), waitMs).unref())]);
    if (outcome === 'still running') await this.kill();
    return outcome;
  }

  async kill(): Promise<void> {
    if (!this.#unshare.running) return;
    const pid = await this.hostPid().catch(() => undefined);
    if (pid) process.kill(pid, 'SIGKILL');
    else this.#unshare.kill();
    await this.#unshare.exited;
  }
}

/** A PostgreSQL that takes connections and never answers: the gateway's start-up waits on it. */
async function blackhole(): Promise<{ server: Server; port: number; connected: () => boolean }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return { server, port: (server.address() as { port: number }).port, connected: () => sockets.length > 0 };
}

const S3 = { S3_BUCKET: 'lake', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1', S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret-access-key' };
const PIPELINE = [
  ['change-reader', {}],
  ['batch-writer', {}],
  ['s3-uploader', S3],
] as const;
const measured: string[] = [];

(canUnshare ? describe : describe.skip)('services as PID 1 stop on SIGTERM before, during and after start-up', () => {
  let deadRedis: string;
  let pg: Awaited<ReturnType<typeof blackhole>>;

  beforeAll(async () => {
    deadRedis = `redis://:${PASSWORD}@127.0.0.1:${await freePort()}`;
    pg = await blackhole();
  });
  afterAll(async () => {
    await new Promise((r) => pg.server.close(r));
    process.stdout.write(`SIGTERM → exit, as PID 1:\n  ${measured.join('\n  ')}\n`);
  });

  /** Start-up that cannot finish: a pipeline service waits for Redis, the gateway for PostgreSQL. */
  const stuck = (app: string): Record<string, string> =>
    app === 'gateway'
      ? { PORT: '0', POSTGRES_URI: `postgres://runnel:${PASSWORD}@127.0.0.1:${pg.port}/agents`, GATEWAY_REDIS_URL: deadRedis }
      : { REDIS_URL: deadRedis, ...(app === 's3-uploader' ? S3 : {}) };
  const waitsFor = (app: string) =>
    app === 'gateway' ? new RegExp(`\\(starting the agent API: PostgreSQL at postgres://127\\.0\\.0\\.1:${pg.port}, Redis at redis://127\\.0\\.0\\.1:\\d+\\)`) : /\(Redis at redis:\/\/127\.0\.0\.1:\d+ not reachable yet\)/;

  function expectInterrupted(svc: Pid1Service, exit: Exit, boundMs: number, detail?: RegExp) {
    expect(exit).toMatchObject({ code: 143 });
    expect((exit as { ms: number }).ms).toBeLessThan(boundMs);
    const lines = svc.stderr.split('\n').filter((l) => l.includes('start-up interrupted'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${svc.app}: start-up interrupted by SIGTERM.*; exiting with 143$`));
    if (detail) expect(lines[0]).toMatch(detail);
    expect(svc.stderr).not.toContain('failed to start');
    expect(svc.stdout + svc.stderr).not.toContain(PASSWORD);
  }

  it.each(['gateway', 'change-reader', 'batch-writer', 's3-uploader'])('%s: SIGTERM while its modules load → 143 once they are loaded', async (app) => {
    const svc = new Pid1Service(app, stuck(app));
    await svc.hostPid();
    // The handlers are in place ~30–100 ms into the process; loading the rest takes ~0.6 s more.
    await new Promise((r) => setTimeout(r, 200));
    const exit = await svc.terminate(WHILE_LOADING_BOUND_MS + 1_000);
    measured.push(`${app} while loading: ${JSON.stringify(exit)}`);
    expectInterrupted(svc, exit, WHILE_LOADING_BOUND_MS);
  });

  it.each(['gateway', 'change-reader', 'batch-writer', 's3-uploader'])('%s: SIGTERM while start-up waits (unreachable dependency) → 143 within a second, one line', async (app) => {
    const svc = new Pid1Service(app, stuck(app));
    try {
      // Waiting indeed: the pipeline services log their Redis retries; the gateway has dialled PostgreSQL.
      await eventually('start-up waiting', () => (app === 'gateway' ? pg.connected() && svc.stdout.includes('Redis connection error') : svc.stdout.includes('redis connection error')), 10_000);
      const exit = await svc.terminate(3_000);
      measured.push(`${app} during start-up: ${JSON.stringify(exit)}`);
      expectInterrupted(svc, exit, INTERRUPT_BOUND_MS, waitsFor(app));
    } finally {
      await svc.kill();
    }
  });

  describe('started', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await RedisServer.start();
    });
    afterAll(async () => {
      await redis.stop();
    });

    it.each([['gateway', { PORT: '0' }] as const, ...PIPELINE])('%s: SIGTERM once running → the drain, exit 0 within SHUTDOWN_TIMEOUT', async (app, env) => {
      const svc = new Pid1Service(app, { REDIS_URL: redis.url, QUEUE_PREFIX: `{signals-${app}}`, ...env });
      try {
        await eventually(`${app} running`, () => svc.stdout.includes(app === 'gateway' ? 'gateway listening' : `${app} running`), 15_000);
        const exit = await svc.terminate();
        measured.push(`${app} after start-up: ${JSON.stringify(exit)}`);
        expect(exit).toMatchObject({ code: 0 });
        expect((exit as { ms: number }).ms).toBeLessThan(SHUTDOWN_TIMEOUT_S * 1_000);
        expect(svc.stdout).toContain('shutdown complete');
        expect(svc.stderr).not.toContain('start-up interrupted');
      } finally {
        await svc.kill();
      }
    });
  });
});
