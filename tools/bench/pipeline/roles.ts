import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { ChangeEnvelope } from '@runnel/lake';
import { Child, CommandLine, LAKE_BUCKET, MongoStandIn, REPO_ROOT } from '@runnel/testing';
import { syntheticEnvelope } from './synthetic-events';

/**
 * The bench's child roles: this same bundle started again with --role=… (and its arguments as
 * --args=JSON), so each part of a measurement is a process of its own whose CPU and RSS are its own
 * columns: the bare-BullMQ baseline's producer and worker, s3rver, the MongoDB stand-in.
 */
const ROLES = ['bullmq-producer', 'bullmq-worker', 's3rver', 'mongo'] as const;
export type Role = (typeof ROLES)[number];
const BASELINE_QUEUE = 'bench';

/** Starts `role` (IPC on: it says 'ready' when it is), tracked and stopped as every harness Child. */
export function startRole(role: Role, args: Record<string, unknown> = {}, nodeArgs: string[] = []): Child {
  // The bundle lives in a temporary directory: its packages resolve through NODE_PATH.
  return Child.node(role, process.argv[1], [`--role=${role}`, `--args=${JSON.stringify(args)}`], { ipc: true, nodeArgs, env: { NODE_PATH: join(REPO_ROOT, 'node_modules') } });
}

/** The role this process was started as, if it is one. */
export function ownRole(cl = new CommandLine()): Role | undefined {
  const role = cl.option('role');
  if (role !== undefined && !(ROLES as readonly string[]).includes(role)) throw new Error(`--role: ${role} is none of ${ROLES.join(', ')}`);
  return role as Role | undefined;
}

/** Runs this process as `role`; it ends with the bench, whatever happens to the bench. */
export function runRole(role: Role): void {
  process.on('disconnect', () => process.exit(0));
  void { 'bullmq-producer': producerRole, 'bullmq-worker': workerRole, s3rver: s3rverRole, mongo: mongoRole }[role]();
}

function send(msg: Record<string, unknown>): void {
  process.send?.(msg);
}
function nextParentMessage(type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (m?.type !== type) return;
      process.off('message', on);
      resolve(m);
    };
    process.on('message', on);
  });
}

/** When the bench says stop: `close`, disconnect, exit 0. */
async function exitOnStop(close: () => Promise<void>, connection: Redis): Promise<void> {
  await nextParentMessage('stop');
  await close();
  connection.disconnect();
  process.exit(0);
}

async function producerRole(): Promise<void> {
  const a = JSON.parse(new CommandLine().option('args', undefined, '{}')) as { redisUrl: string; prefix: string; count: number; jobSize: number; generate: boolean; chunkEvents: number; collections: string[]; docBytes: number };
  const connection = new Redis(a.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(BASELINE_QUEUE, { connection, prefix: a.prefix });
  await queue.waitUntilReady();
  // A pool of real envelopes, reused with their seq set: building them is not what is measured (the
  // reader's generation cost is part of the pipeline's figure, so this baseline is the stricter one).
  const pool = Array.from({ length: Math.min(a.count, 1000) }, (_, k) => syntheticEnvelope(k + 1, a.collections, a.docBytes));
  const jobsPerChunk = Math.max(1, Math.floor(a.chunkEvents / a.jobSize));
  send({ type: 'ready', eventJsonBytes: pool.reduce((s, e) => s + JSON.stringify(e).length, 0) / pool.length });
  await nextParentMessage('go');
  send({ type: 'started' });
  let seq = 1;
  while (seq <= a.count) {
    const jobs: { name: string; data: unknown }[] = [];
    for (let j = 0; j < jobsPerChunk && seq <= a.count; j++) {
      const n = Math.min(a.jobSize, a.count - seq + 1);
      const events: ChangeEnvelope[] = [];
      for (let k = 0; k < n; k++, seq++) events.push(a.generate ? syntheticEnvelope(seq, a.collections, a.docBytes) : { ...pool[(seq - 1) % pool.length], seq });
      jobs.push({ name: 'events', data: a.jobSize === 1 ? events[0] : { events } });
    }
    await queue.addBulk(jobs);
  }
  send({ type: 'added' });
  await exitOnStop(() => queue.close(), connection);
}

async function workerRole(): Promise<void> {
  const a = JSON.parse(new CommandLine().option('args', undefined, '{}')) as { redisUrl: string; prefix: string; count: number; concurrency: number };
  const connection = new Redis(a.redisUrl, { maxRetriesPerRequest: null });
  let events = 0;
  let jobs = 0;
  let done = false;
  const worker = new Worker(BASELINE_QUEUE, async () => undefined, { connection, prefix: a.prefix, concurrency: a.concurrency });
  worker.on('completed', (job) => {
    const data = job.data as { events?: unknown[] };
    events += Array.isArray(data.events) ? data.events.length : 1;
    jobs++;
    if (!done && events >= a.count) {
      done = true;
      send({ type: 'done', events, jobs });
    }
  });
  await worker.waitUntilReady();
  send({ type: 'ready' });
  await exitOnStop(() => worker.close(), connection);
}

async function s3rverRole(): Promise<void> {
  // s3rver in this very process (started with --openssl-legacy-provider), not through libs/testing's
  // S3Server, which would start it in a further child whose CPU the table could not attribute.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as new (o: Record<string, unknown>) => { run(): Promise<{ port: number }>; close(): Promise<void> };
  const dir = mkdtempSync(join(os.tmpdir(), 'runnel-bench-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: LAKE_BUCKET }] });
  const { port } = await server.run();
  process.on('SIGTERM', () => {
    void server.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  send({ type: 'ready', port });
}

/** The MongoDB stand-in in its own process, so its CPU is its own column. */
async function mongoRole(): Promise<void> {
  const mongo = await MongoStandIn.start({});
  process.on('SIGTERM', () => void mongo.stop().finally(() => process.exit(0)));
  send({ type: 'ready', uri: mongo.uri });
}
