import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../free-port';
import { RedisServer } from '../redis-server';
import { S3Server, s3rverClientConfig } from '../s3-server';
import { ServiceProcess } from '../service-process';
import type { Child } from './child';
import { eventually, ProcessExitedError, waitForOk } from './wait-for';

export const PIPELINE_SERVICES = ['change-reader', 'batch-writer', 's3-uploader'] as const;
export type PipelineService = (typeof PIPELINE_SERVICES)[number];
/** The bucket the uploader writes (every S3Server the harness starts has it). */
export const LAKE_BUCKET = 'lake';

/**
 * What a pipeline service needs to run here beside its own settings: the Redis, loopback, quiet logs,
 * its metrics port; the uploader the bucket and, given an s3rver's endpoint, that endpoint and the
 * test credentials (S3_CONDITIONAL_WRITES=false: s3rver ignores If-None-Match).
 */
export function pipelineServiceEnv(app: PipelineService, at: { redisUrl: string; redisCluster?: boolean; metricsPort: number; s3Endpoint?: string }): Record<string, string> {
  const env: Record<string, string> = { REDIS_URL: at.redisUrl, ...(at.redisCluster ? { REDIS_CLUSTER: 'true' } : {}), LOG_LEVEL: 'warn', HOST: '127.0.0.1', METRICS_PORT: String(at.metricsPort) };
  if (app !== 's3-uploader') return env;
  const s3 = at.s3Endpoint && { AWS_ENDPOINT_URL_S3: at.s3Endpoint, S3_FORCE_PATH_STYLE: 'true', S3_CONDITIONAL_WRITES: 'false', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
  return { ...env, S3_BUCKET: LAKE_BUCKET, ...s3 };
}

/** change-reader's /ready `reader` detail, as far as the tools read it. */
export interface ReaderDetail {
  state?: string;
  holder?: string;
  generation?: number | null;
  read_seq?: number;
  checkpoint_seq?: number | null;
  in_flight_events?: number;
  /**
   * Whether the stream's checkpoint holds a resume position: the reader has opened its change stream.
   * A new generation shows checkpoint_seq 0 a moment earlier; a write before the position is not in the stream.
   */
  has_position?: boolean;
  /** The snapshot's progress (SNAPSHOT_MODE initial …), null outside one. */
  snapshot?: SnapshotDetail | null;
}

/** The reader's snapshot progress in /ready, as far as the tools read it. */
export interface SnapshotDetail {
  phase?: string;
  rows?: number;
  /** By `db.collection`. */
  collections?: Record<string, { state?: string; rows?: number; chunks?: number }>;
  [key: string]: unknown;
}

/** A service's /ready: its HTTP status, the reader's detail (change-reader) and the queues' job counts. */
export interface ReadyReport {
  status: number;
  reader?: ReaderDetail;
  queues: Record<string, Record<string, number>>;
}

/** GET /ready of the service on `port`; undefined when it does not answer within `timeoutMs`. */
export async function readyOf(port: number, timeoutMs = 5000): Promise<ReadyReport | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as { checks?: { reader?: { detail?: ReaderDetail }; queues?: { detail?: Record<string, Record<string, number>> } } };
    return { status: res.status, reader: body.checks?.reader?.detail, queues: body.checks?.queues?.detail ?? {} };
  } catch {
    return undefined;
  }
}

/**
 * Until the reader on `port` reports its stream's start position recorded (/ready has_position);
 * fails at once, with its output, if `reader` exits first. Returns the reader's detail then.
 */
export async function waitForPosition(port: number, reader: Child, timeoutMs = 60_000): Promise<ReaderDetail> {
  return eventually(`${reader.name} to record its start position`, async () => {
    const d = (await readyOf(port, 2000))?.reader;
    return d?.has_position ? d : undefined;
  }, timeoutMs, 100, [reader]);
}

export interface PipelineUnderTestOptions {
  /** The Redis the services share (REDIS_CLUSTER=true with `cluster`); default a RedisServer started and stopped here. */
  redis?: { url: string; cluster?: boolean };
  /** The s3rver holding bucket `lake`; default an S3Server started and stopped here. */
  s3?: { endpoint: string };
  /** Where the uploader sends its requests when not straight to `s3` (a FlakyProxy in front of it). */
  s3Endpoint?: string;
  /** The writer's S3_PREFIX, where lake() reads. Default `cdc`. */
  s3Prefix?: string;
  /** Settings of all three services (QUEUE_PREFIX, SHUTDOWN_TIMEOUT …), over pipelineServiceEnv's. */
  env?: Record<string, string>;
  /** Each service's own settings, on top (the reader's default source: SOURCE=synthetic). */
  reader?: Record<string, string>;
  writer?: Record<string, string>;
  uploader?: Record<string, string>;
  /** Node flags of each service, before its main script. */
  nodeArgs?: (app: PipelineService) => string[];
  /** DIR of DIR/<service>/main.js (a saved build); default dist/apps, built when missing. */
  dist?: string;
  /**
   * `all` (default): each service a metrics port of its own, kept across restarts. `reader`: the
   * others take METRICS_PORT=0, for runs that never ask them (a port picked and bound later can
   * be taken in between by another service's METRICS_PORT=0).
   */
  metricsPorts?: 'all' | 'reader';
}

/**
 * The three built services on a Redis and an s3rver, as every test and tool runs the pipeline: each
 * service started, stopped or restarted on its own (a bench starts the reader last; a chaos run kills
 * them), extra processes of a service beside (reader replicas), the reader's progress, the lake.
 */
export class PipelineUnderTest {
  /** The running (latest started) process of each service. */
  readonly services = new Map<PipelineService, ServiceProcess>();
  readonly #processes = new Set<ServiceProcess>();
  readonly #ports: Partial<Record<PipelineService, number>>;

  private constructor(
    private readonly o: PipelineUnderTestOptions,
    readonly redis: { url: string; cluster?: boolean },
    readonly s3: { endpoint: string },
    ports: Partial<Record<PipelineService, number>>,
    private readonly owned: { stop(): Promise<void> }[],
  ) {
    this.#ports = ports;
  }

  /** The Redis and the s3rver (started unless given), the ports; no service running yet. */
  static async create(o: PipelineUnderTestOptions = {}): Promise<PipelineUnderTest> {
    const owned: { stop(): Promise<void> }[] = [];
    const own = <T extends { stop(): Promise<void> }>(server: T): T => (owned.push(server), server);
    const redis = o.redis ?? own(await RedisServer.start());
    const s3 = o.s3 ?? own(await S3Server.start([LAKE_BUCKET]));
    const ports: Partial<Record<PipelineService, number>> = {};
    for (const app of o.metricsPorts === 'reader' ? (['change-reader'] as const) : PIPELINE_SERVICES) ports[app] = await freePort();
    return new PipelineUnderTest(o, redis, s3, ports, owned);
  }

  /** create(), then the three services at once. */
  static async start(o: PipelineUnderTestOptions = {}): Promise<PipelineUnderTest> {
    const p = await PipelineUnderTest.create(o);
    for (const app of PIPELINE_SERVICES) p.startService(app);
    return p;
  }

  get s3Prefix(): string {
    return this.o.s3Prefix ?? 'cdc';
  }

  /** @aws-sdk/client-s3 settings for the s3rver (straight, not through s3Endpoint's proxy). */
  get s3ClientConfig() {
    return s3rverClientConfig(this.s3.endpoint);
  }

  /** A service's whole environment, `extra` last. */
  env(app: PipelineService, extra: Record<string, string> = {}): Record<string, string> {
    const own = { 'change-reader': { SOURCE: 'synthetic', ...this.o.reader }, 'batch-writer': { S3_PREFIX: this.s3Prefix, ...this.o.writer }, 's3-uploader': this.o.uploader }[app];
    const at = { redisUrl: this.redis.url, redisCluster: this.redis.cluster, metricsPort: this.#ports[app] ?? 0, s3Endpoint: this.o.s3Endpoint ?? this.s3.endpoint };
    return { ...pipelineServiceEnv(app, at), ...this.o.env, ...own, ...extra };
  }

  /**
   * Another process of `app` beside the service (a reader replica, a reader that only records the
   * start position); stopped by stop(). `nodeArgs` instead of the service's node flags.
   */
  spawn(app: PipelineService, extra: Record<string, string> = {}, nodeArgs = this.o.nodeArgs?.(app)): ServiceProcess {
    const main = this.o.dist === undefined ? undefined : join(this.o.dist, app, 'main.js');
    const p = new ServiceProcess(app, this.env(app, extra), { nodeArgs, main });
    this.#processes.add(p);
    void p.exited.then(() => this.#processes.delete(p));
    return p;
  }

  /** Starts `app` as the service (its previous process, if any, should be stopped). */
  startService(app: PipelineService, extra: Record<string, string> = {}): ServiceProcess {
    const p = this.spawn(app, extra);
    this.services.set(app, p);
    return p;
  }

  /** Stops the service (SIGTERM, SIGKILL after `killAfterMs`; or SIGKILL at once). */
  async stopService(app: PipelineService, signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 10_000): Promise<void> {
    await this.services.get(app)?.stop(signal, killAfterMs);
  }

  /** Stops the service with `signal` and starts it again (same port, `extra` on top). */
  async restart(app: PipelineService, signal: NodeJS.Signals = 'SIGTERM', extra: Record<string, string> = {}): Promise<ServiceProcess> {
    await this.stopService(app, signal);
    return this.startService(app, extra);
  }

  /** The service's metrics port. */
  port(app: PipelineService): number {
    const port = this.#ports[app];
    if (port === undefined) throw new Error(`${app} has no fixed metrics port (metricsPorts: 'reader')`);
    return port;
  }

  /** The pid of each running service. */
  pids(): Partial<Record<PipelineService, number>> {
    return Object.fromEntries([...this.services].map(([app, p]) => [app, p.pid]));
  }

  /** Until the service's /ready answers 200; fails at once if it exits. */
  async ready(app: PipelineService, timeoutMs = 30_000): Promise<void> {
    await waitForOk(`http://127.0.0.1:${this.port(app)}/ready`, this.services.get(app), timeoutMs);
  }

  /** The reader's /ready. */
  readerReady(timeoutMs?: number): Promise<ReadyReport | undefined> {
    return readyOf(this.port('change-reader'), timeoutMs);
  }

  /** Until the reader service reports its start position recorded (waitForPosition); fails at once if it exits. */
  async positioned(timeoutMs = 60_000): Promise<ReaderDetail> {
    const reader = this.services.get('change-reader');
    if (!reader) throw new Error('change-reader is not started');
    return waitForPosition(this.port('change-reader'), reader, timeoutMs);
  }

  /** Throws, with its output's tail, when a service has exited. */
  assertRunning(): void {
    for (const [app, p] of this.services) if (!p.running) throw new Error(`${app} exited (${p.exitCode}):\n${p.tail(40)}`);
  }

  /** Until the reader's checkpoint covers `count` events; fails at once if a service exits, with each one's last words. */
  async drained(count: number, timeoutMs = 90_000): Promise<void> {
    let last: ReadyReport | undefined;
    const check = async () => ((last = await this.readerReady())?.reader?.checkpoint_seq ?? 0) >= count;
    await eventually(`the checkpoint to reach ${count} events`, check, timeoutMs, 250, [...this.services.values()]).catch((err: Error) => {
      const logs = [...this.services].map(([app, p]) => `--- ${app}:\n${p.tail(40)}`);
      const E = err instanceof ProcessExitedError ? ProcessExitedError : Error;
      throw new E(`${err.message}\nreader: ${JSON.stringify(last?.reader)}\n${logs.join('\n')}`);
    });
  }

  /** Reads the lake under S3_PREFIX with `read` (e.g. @runnel/lake's verifyLake) on a client of its own. */
  async lake<T>(read: (s3: S3Client, bucket: string, prefix: string) => Promise<T>): Promise<T> {
    const client = new S3Client(this.s3ClientConfig);
    try {
      return await read(client, LAKE_BUCKET, `${this.s3Prefix}/`);
    } finally {
      client.destroy();
    }
  }

  /** Stops every process started here (SIGCONT first: one may be SIGSTOPped), then the Redis and s3rver it started. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 10_000): Promise<void> {
    await Promise.all([...this.#processes].map((p) => (p.running && p.proc.kill('SIGCONT'), p.stop(signal, killAfterMs))));
    for (const s of this.owned.splice(0)) await s.stop();
  }
}
