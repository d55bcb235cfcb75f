import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { type StreamReport, verifyLake } from '@runnel/lake';
import { eventually, FlakyProxy, freePort, RedisServer, S3Server, ServiceProcess } from '@runnel/testing';

export interface ChaosOptions {
  events: number;
  /** How long to keep killing things, ms. */
  durationMs: number;
  /** Synthetic events per second (spreads the run over the chaos window). */
  rate: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  kills: Record<string, number>;
  redisRestarts: number;
  s3FailedRequests: number;
  report: StreamReport;
  lost: number;
  duplicated: number;
  /**
   * Batch and object bodies still in Redis after everything is stored (a few seconds' grace for the
   * last deletions). Left-overs lose no data but hold memory until their TTL (7 days).
   */
  leftoverBodies: number;
}

type App = 'change-reader' | 'batch-writer' | 's3-uploader';

/**
 * The pipeline under fire: the three built services run against a real redis-server and s3rver
 * (through a proxy that can fail requests). For `durationMs`, every 1–3 s one random service is
 * killed with SIGKILL and restarted; half-way Redis is restarted (AOF on) and S3 answers 503 for a
 * while. Then everything settles, and the lake is read back: every event must be there exactly once.
 */
export async function runPipelineChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => undefined);
  let seed = o.seed ?? 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let redis = await RedisServer.start();
  const redisPort = redis.port;
  const redisDir = redis.dir;
  const s3 = await S3Server.start(['lake']);
  const proxy = await FlakyProxy.start(s3.endpoint);
  const readerPort = await freePort();
  const common = { REDIS_URL: redis.url, LOG_LEVEL: 'warn', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT: '5' };
  const env: Record<App, Record<string, string>> = {
    'change-reader': {
      ...common, METRICS_PORT: String(readerPort), SOURCE: 'synthetic', SYNTHETIC_COUNT: String(o.events), SYNTHETIC_RATE: String(o.rate),
      SYNTHETIC_COLLECTIONS: 'orders,customers,products', SYNTHETIC_DOC_BYTES: '256', BATCH_SIZE: '400', BATCH_TIMEOUT_MS: '300', LEASE_TTL_MS: '1500',
    },
    'batch-writer': { ...common, METRICS_PORT: '0', FORMAT: 'jsonl', COMPRESSION: 'gzip', S3_PREFIX: 'chaos', JOB_LOCK_MS: '2000' },
    's3-uploader': {
      ...common, METRICS_PORT: '0', S3_BUCKET: 'lake', AWS_ENDPOINT_URL_S3: proxy.endpoint, S3_FORCE_PATH_STYLE: 'true', S3_CONDITIONAL_WRITES: 'false',
      AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', RETRY_DELAY_MS: '50', MAX_RETRY_DELAY_MS: '1000', MAX_RETRIES: '30', JOB_LOCK_MS: '2000',
    },
  };
  const running = new Map<App, ServiceProcess>();
  const start = (app: App) => running.set(app, new ServiceProcess(app, env[app]));
  const kills: Record<string, number> = { 'change-reader': 0, 'batch-writer': 0, 's3-uploader': 0 };
  let redisRestarts = 0;
  try {
    (['change-reader', 'batch-writer', 's3-uploader'] as App[]).forEach(start);
    const end = Date.now() + o.durationMs;
    let redisDone = false;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1000 + random() * 2000));
      const app = (['change-reader', 'batch-writer', 's3-uploader'] as App[])[Math.floor(random() * 3)];
      await running.get(app)!.stop('SIGKILL');
      kills[app]++;
      start(app);
      log(`chaos: kill -9 ${app}, restarted`);
      if (!redisDone && Date.now() > end - o.durationMs / 2) {
        redisDone = true;
        proxy.failFor(2500, 503);
        log('chaos: S3 answers 503 for 2.5 s');
        await redis.stop(true);
        redis = await RedisServer.start({ port: redisPort, dir: redisDir });
        redisRestarts++;
        log('chaos: redis restarted on its AOF');
      }
    }
    // Settle: every service up, the checkpoint reaches the last event.
    for (const [app, p] of running) if (!p.running) start(app);
    await eventually(
      'the pipeline to settle',
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${readerPort}/ready`)).json()) as { checks: { reader: { detail: { checkpoint_seq: number | null } } } };
        return (body.checks.reader.detail.checkpoint_seq ?? 0) >= o.events;
      },
      120_000,
      250,
    );
    const client = new S3Client(s3.clientConfig);
    const keys = new Redis(redis.url);
    try {
      const [report] = await verifyLake(client, 'lake', 'chaos/');
      if (!report) throw new Error('no Runnel object under chaos/ at all: every event was lost');
      // Lost: gaps below the highest seq stored, plus anything above it that never arrived.
      const lost = report.missing + Math.max(0, o.events - report.maxSeq);
      const bodies = async () => (await keys.keys('*:batch-body:*')).length + (await keys.keys('*:body:*')).length;
      const leftoverBodies = await eventually('the last bodies to be deleted', async () => (await bodies()) === 0, 5_000).then(() => 0, () => bodies());
      return { kills, redisRestarts, s3FailedRequests: proxy.failed, report, lost, duplicated: report.duplicates, leftoverBodies };
    } finally {
      keys.disconnect();
      client.destroy();
    }
  } finally {
    await Promise.all([...running.values()].map((p) => p.stop('SIGKILL')));
    await proxy.stop();
    await s3.stop();
    await redis.stop();
  }
}
