import { S3Client } from '@aws-sdk/client-s3';
import { type StreamReport, verifyLake } from '@runnel/lake';
import { eventually, freePort, type S3Server, ServiceProcess } from '@runnel/testing';

export interface PipelineUnderTestOptions {
  /** Redis settings every service gets (REDIS_URL, REDIS_CLUSTER, QUEUE_PREFIX …). */
  redis: Record<string, string>;
  s3: S3Server;
  /** The lake's S3_PREFIX (also where verifyLake reads). */
  s3Prefix: string;
  reader: Record<string, string>;
  writer?: Record<string, string>;
}

/** The three built services on a Redis and an s3rver, as the end-to-end tests start them. */
export class PipelineUnderTest {
  private constructor(
    readonly services: ServiceProcess[],
    readonly readerPort: number,
    private readonly o: PipelineUnderTestOptions,
  ) {}

  static async start(o: PipelineUnderTestOptions): Promise<PipelineUnderTest> {
    const common = { ...o.redis, LOG_LEVEL: 'warn', HOST: '127.0.0.1' };
    const readerPort = await freePort();
    const services = [
      new ServiceProcess('change-reader', { ...common, METRICS_PORT: String(readerPort), SOURCE: 'synthetic', ...o.reader }),
      new ServiceProcess('batch-writer', { ...common, METRICS_PORT: String(await freePort()), S3_PREFIX: o.s3Prefix, ...o.writer }),
      new ServiceProcess('s3-uploader', {
        ...common,
        METRICS_PORT: String(await freePort()),
        S3_BUCKET: 'lake',
        AWS_ENDPOINT_URL_S3: o.s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        S3_CONDITIONAL_WRITES: 'false', // s3rver ignores If-None-Match
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      }),
    ];
    return new PipelineUnderTest(services, readerPort, o);
  }

  /** Waits until the reader's checkpoint covers `count` events (failing at once if a service exits). */
  async drained(count: number, timeoutMs = 90_000): Promise<void> {
    await eventually(
      'the checkpoint to reach every event',
      async () => {
        for (const s of this.services) if (!s.running) throw new Error(`${s.app} exited: ${s.stderr || s.stdout.slice(-2000)}`);
        const res = await fetch(`http://127.0.0.1:${this.readerPort}/ready`).catch(() => undefined);
        if (!res) return false;
        const body = (await res.json()) as { checks?: { reader?: { detail?: { checkpoint_seq?: number | null } } } };
        return (body.checks?.reader?.detail?.checkpoint_seq ?? 0) >= count;
      },
      timeoutMs,
      250,
    );
  }

  async lake(): Promise<StreamReport[]> {
    const client = new S3Client(this.o.s3.clientConfig);
    try {
      return await verifyLake(client, 'lake', `${this.o.s3Prefix}/`);
    } finally {
      client.destroy();
    }
  }
}
