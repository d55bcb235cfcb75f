/**
 * npm run lake:verify -- <s3://bucket/prefix | prefix>
 *
 * Reads every object under the prefix back (any format and compression) and reports, per stream
 * and generation (seqs restart at 1 in each): objects, events, events per collection, sequence
 * gaps and duplicates. Exit 0 when every stream generation is complete and duplicate-free, 1
 * otherwise. S3 settings come from the same variables as
 * s3-uploader: S3_BUCKET (when no s3:// URL is given), AWS_REGION, AWS_ENDPOINT_URL_S3,
 * S3_FORCE_PATH_STYLE, and the AWS SDK's usual credentials.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { describeLake, verifyLake } from '@runnel/lake';
import { runToolMain } from '@runnel/testing';

async function main(): Promise<number> {
  const target = process.argv[2] ?? '';
  let bucket = process.env.S3_BUCKET ?? '';
  let prefix = target;
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(target);
  if (m) [bucket, prefix] = [m[1], m[2]];
  if (!bucket) {
    process.stderr.write('lake:verify: give s3://bucket/prefix, or set S3_BUCKET and pass a prefix\n');
    return 2;
  }
  const s3 = new S3Client({
    region: process.env.AWS_REGION ?? 'us-east-1',
    endpoint: process.env.AWS_ENDPOINT_URL_S3 || undefined,
    forcePathStyle: /^(1|true|yes)$/i.test(process.env.S3_FORCE_PATH_STYLE ?? ''),
  });
  try {
    const reports = await verifyLake(s3, bucket, prefix);
    if (reports.length === 0) {
      process.stdout.write(`no Runnel objects under s3://${bucket}/${prefix}\n`);
      return 1;
    }
    const lake = describeLake(reports, { details: true });
    for (const line of lake.lines) process.stdout.write(`${line}\n`);
    return lake.clean ? 0 : 1;
  } finally {
    s3.destroy();
  }
}

runToolMain('lake:verify', main, { failCode: 2 });
