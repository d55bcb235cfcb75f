import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './harness/child';
import { LocalServer } from './harness/local-server';

/**
 * s3rver, started in a child Node. Not in-process: s3rver 3.7 encrypts ListObjectsV2 continuation
 * tokens with DES, which Node 24's OpenSSL 3 has only in its legacy provider, a process-wide flag
 * (`--openssl-legacy-provider`). In-process, every listing past its first page (1,000 keys) failed
 * with InternalError, so a lake verified against it could hold at most 1,000 objects.
 */
const CHILD = `
const S3rver = require('s3rver');
const [dir, buckets] = [process.argv[1], JSON.parse(process.argv[2])];
new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) })
  .run()
  .then(({ port }) => process.stdout.write(JSON.stringify({ port }) + '\\n'), (err) => { console.error(err); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
`;

/** @aws-sdk/client-s3 settings for an s3rver at `endpoint` (it accepts the fixed test credentials S3RVER/S3RVER). */
export function s3rverClientConfig(endpoint: string) {
  return { endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } };
}

/** A real S3-protocol server (s3rver) on a free loopback port, storing under a temp folder. */
export class S3Server extends LocalServer {
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Client settings for @aws-sdk/client-s3. */
  get clientConfig() {
    return s3rverClientConfig(this.endpoint);
  }

  static async start(buckets: string[] = ['lake']): Promise<S3Server> {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-s3-'));
    // cwd: where `require('s3rver')` resolves. It prints {"port": n} once listening.
    const child = new Child('s3rver', process.execPath, ['--openssl-legacy-provider', '-e', CHILD, dir, JSON.stringify(buckets)], { keepBytes: 64 * 1024 });
    let port: string;
    try {
      [, port] = await child.waitForOutput(/\{"port":(\d+)\}\n/, 30_000);
    } catch (err) {
      await new S3Server(0, dir, child, true).stop();
      throw err;
    }
    return new S3Server(Number(port), dir, child, true);
  }

  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM');
    this.removeDir();
  }
}
