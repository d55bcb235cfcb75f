/**
 * npm run compose:smoke -- [--up] [--count N] [--timeout SECONDS]
 *
 * End-to-end check of the compose environment (docker-compose.yml; needs a Docker engine): inserts
 * N documents into MongoDB through the published port, waits until each one is an event in an
 * object in MinIO (and the lake's sequence is gap- and duplicate-free), then asks the gateway's
 * /echo/invoke for an answer. Prints a summary; exit 1 when something is missing at the timeout.
 * Settings: see SMOKE_USAGE in smoke-lib.ts (`--help`).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { decodeObject, describeLake, parseObjectKey, verifyLake } from '@runnel/lake';
import { runToolMain } from '@runnel/testing';
import { MongoClient } from 'mongodb';
import { markRunDocuments, missingDocuments, parseSmokeArgs, SMOKE_USAGE, type SmokeSettings } from './smoke-lib';

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function insertDocuments(s: SmokeSettings, runId: string): Promise<void> {
  const client = new MongoClient(s.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    const docs = Array.from({ length: s.count }, (_, i) => ({ smoke_run: runId, i, at: new Date() }));
    const res = await client.db(s.database).collection(s.collection).insertMany(docs, { ordered: true });
    log(`inserted ${res.insertedCount} documents into ${s.database}.${s.collection} (run ${runId})`);
  } finally {
    await client.close();
  }
}

/** Reads objects not read before (objects are immutable) and marks this run's documents in them. */
async function scanLake(s3: S3Client, s: SmokeSettings, runId: string, read: Set<string>, seen: Set<number>): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: s.prefix || undefined, ContinuationToken: token }));
    for (const item of page.Contents ?? []) {
      const key = item.Key ?? '';
      const parsed = parseObjectKey(key);
      if (!parsed || read.has(key)) continue;
      const res = await s3.send(new GetObjectCommand({ Bucket: s.bucket, Key: key }));
      if (!res.Body) continue;
      markRunDocuments(decodeObject(Buffer.from(await res.Body.transformToByteArray()), parsed.extension), s.collection, runId, seen);
      read.add(key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function askGateway(s: SmokeSettings, runId: string): Promise<string | undefined> {
  const res = await fetch(`${s.gatewayUrl}/echo/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: runId }) });
  if (!res.ok) return `HTTP ${res.status}`;
  const body = (await res.json()) as { output?: unknown };
  return body.output === runId ? undefined : `unexpected output ${JSON.stringify(body.output)}`;
}

async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    log(SMOKE_USAGE);
    return 0;
  }
  const s = parseSmokeArgs(process.argv.slice(2), process.env);
  if (s.up) {
    log('docker compose up -d --build --wait …');
    const r = spawnSync('docker', ['compose', 'up', '-d', '--build', '--wait'], { stdio: 'inherit' });
    if (r.status !== 0) {
      log(`docker compose up failed (${r.error?.message ?? `exit ${r.status}`})`);
      return 1;
    }
  }
  const runId = randomUUID();
  const deadline = Date.now() + s.timeoutSeconds * 1000;
  const started = Date.now();
  await insertDocuments(s, runId);

  const s3 = new S3Client({ region: 'us-east-1', endpoint: s.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } });
  const seen = new Set<number>();
  const read = new Set<string>();
  let gatewayProblem: string | undefined = 'not asked yet';
  try {
    while (Date.now() < deadline && (seen.size < s.count || gatewayProblem)) {
      // Services may still be starting: failures are retried until the deadline.
      if (seen.size < s.count) {
        await scanLake(s3, s, runId, read, seen).catch((err: Error) => log(`  (lake not readable yet: ${err.message})`));
      }
      if (gatewayProblem) gatewayProblem = await askGateway(s, runId).catch((err: Error) => err.message);
      if (seen.size < s.count || gatewayProblem) await sleep(1000);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    log(`lake: ${seen.size}/${s.count} documents of this run in s3://${s.bucket}/${s.prefix} after ${seconds} s (${read.size} objects read)`);
    if (seen.size < s.count) log(`  first missing: i = ${missingDocuments(s.count, seen).join(', ')}`);
    const lake = describeLake(await verifyLake(s3, s.bucket, s.prefix));
    for (const line of lake.lines) log(`  ${line}`);
    log(`gateway: ${gatewayProblem ? `no answer (${gatewayProblem})` : `/echo/invoke answered at ${s.gatewayUrl}`}`);
    const ok = seen.size === s.count && lake.clean && !gatewayProblem;
    log(ok ? 'smoke test passed' : 'smoke test FAILED');
    return ok ? 0 : 1;
  } finally {
    s3.destroy();
  }
}

runToolMain('compose:smoke', main);
