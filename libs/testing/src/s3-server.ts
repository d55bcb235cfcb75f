import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types; it is a Koa app speaking the S3 REST protocol over HTTP.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
};

/** A real S3-protocol server (s3rver) on a free loopback port, storing under a temp folder. */
export class S3Server {
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly server: InstanceType<typeof S3rver>,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Client settings for @aws-sdk/client-s3 (s3rver accepts the fixed test credentials S3RVER/S3RVER). */
  get clientConfig() {
    return {
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    };
  }

  static async start(buckets: string[] = ['lake']): Promise<S3Server> {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-s3-'));
    const server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: dir,
      configureBuckets: buckets.map((name) => ({ name })),
    });
    const { port } = await server.run();
    return new S3Server(port, dir, server);
  }

  async stop(): Promise<void> {
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
