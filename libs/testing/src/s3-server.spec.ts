import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Server } from './s3-server';

describe('S3Server', () => {
  it('lists past the first page of 1,000 keys (s3rver needs the OpenSSL legacy provider on Node 24)', async () => {
    const s3 = await S3Server.start(['lake']);
    const client = new S3Client(s3.clientConfig);
    try {
      for (let i = 0; i < 7; i++) await client.send(new PutObjectCommand({ Bucket: 'lake', Key: `k/${i}`, Body: String(i) }));
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'k/', MaxKeys: 3, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      expect(keys.sort()).toEqual(['k/0', 'k/1', 'k/2', 'k/3', 'k/4', 'k/5', 'k/6']);
    } finally {
      client.destroy();
      await s3.stop();
    }
  });
});
