import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CheckpointStore, StreamLease } from '@runnel/checkpoint';
import { createMetricsRegistry, pipelineMetrics } from '@runnel/metrics';
import { createLogCapture, createLogger } from '@runnel/telemetry';
import { BodyStore, CHANGE_EVENTS, type DeadLetter, QUEUES, replayDeadLetters } from '@runnel/queue';
import { eventually, RedisServer } from '@runnel/testing';
import { ChangeReaderService } from './change-reader.service';
import { type ChangeSource, HistoryLostError, type ResumePoint, type SourceItem } from './sources/change-source';
import { SyntheticSource } from './sources/synthetic-source';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await RedisServer.start();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

const synthetic = (count: number) =>
  new SyntheticSource({ database: 'db', collections: ['a', 'b'], rate: 0, count, documentBytes: 200, startSeconds: 1_795_000_000, eventsPerClusterSecond: 1000, idleIntervalMs: 20 });

function reader(source: ChangeSource, prefix: string, opts: { bufferLimit?: number; onHistoryLost?: 'fail' | 'latest' } = {}) {
  const { destination, lines } = createLogCapture();
  const registry = createMetricsRegistry('change-reader');
  const checkpoints = new CheckpointStore(redis, { prefix, ttlMs: 60_000 });
  const batches = new Queue('batches', { connection: redis, prefix });
  const service = new ChangeReaderService({
    source,
    checkpoints,
    lease: new StreamLease(redis, { prefix, stream: source.stream, holder: 'test', ttlMs: 5_000 }),
    batches,
    bodies: new BodyStore(redis, prefix),
    deadLetters: new Queue(QUEUES.deadLetter, { connection: redis, prefix }),
    cutter: { batchSize: 100, maxBytes: 10_000_000, timeoutMs: 100 },
    bufferLimit: opts.bufferLimit ?? 1_000_000,
    leaseTtlMs: 5_000,
    onHistoryLost: opts.onHistoryLost ?? 'fail',
    metrics: pipelineMetrics(registry),
    logger: createLogger({ service: 'change-reader', destination }),
  });
  return { service, checkpoints, batches, registry, lines };
}

/** The synthetic stream with event 3 broken (no cluster time), as a source bug or an odd server might send it. */
class OneMalformed implements ChangeSource {
  readonly stream = 'db';
  async *read(from: ResumePoint | undefined, signal: AbortSignal): AsyncIterable<SourceItem> {
    for await (const item of synthetic(6).read(from, signal)) {
      if (item.type === 'change' && item.token._data === synthetic(6).change(3)._id._data) yield { ...item, change: { ...item.change, clusterTime: undefined } };
      else yield item;
    }
  }
}

/** A source that has lost its history on the first read, then (after a reset) serves from now. */
class HistoryLostOnce implements ChangeSource {
  readonly stream = 'db';
  reads: (ResumePoint | undefined)[] = [];
  async *read(from: ResumePoint | undefined, signal: AbortSignal): AsyncIterable<SourceItem> {
    this.reads.push(from);
    if (this.reads.length === 1) throw new HistoryLostError('db');
    yield* synthetic(5).read(undefined, signal);
  }
}

describe('ChangeReaderService', () => {
  it('hands every event on in batches and, once idle, checkpoints the post-batch token', async () => {
    const prefix = `{r-${Date.now()}}`;
    const { service, checkpoints, batches } = reader(synthetic(250), prefix);
    const ac = new AbortController();
    const run = service.run(ac.signal);
    try {
      await eventually('250 events in batches', async () => {
        const jobs = await batches.getJobs(['waiting']);
        return jobs.reduce((n, j) => n + (j.data as { count: number }).count, 0) === 250;
      }, 10_000);
      // Each job's events sit beside it in Redis as JSONL, one line per event, seqs 1..250 once each.
      const seqs: number[] = [];
      for (const job of await batches.getJobs(['waiting'])) {
        const body = (await redis.getBuffer(job.data.bodyKey as string))!.toString('utf8');
        const lines = body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; collection: string });
        expect(lines).toHaveLength(job.data.count);
        expect(lines.every((l) => l.collection === job.data.collection)).toBe(true);
        seqs.push(...lines.map((l) => l.seq));
      }
      expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
      // Nothing is in S3 yet, so the checkpoint must still be before event 1.
      expect((await checkpoints.load('db'))?.seq ?? 0).toBe(0);
      for (const r of await checkpoints.records('db')) await checkpoints.complete('db', r.id);
      // Completing moves it to event 250's token; the idle loop then offers the post-batch token.
      const idleToken = { _data: `${(250).toString(16).padStart(16, '0')}ff` };
      await eventually('the idle token to be checkpointed', async () => {
        const c = await checkpoints.load('db');
        return c?.seq === 250 && c.token._data === idleToken._data;
      }, 10_000);
    } finally {
      ac.abort();
      await run;
      await batches.close();
    }
  });

  it('dead-letters a change event it cannot read, with the reason, and reads on without a gap in seq', async () => {
    const prefix = `{r-dlq-${Date.now()}}`;
    const { service, batches, lines } = reader(new OneMalformed(), prefix);
    const dlq = new Queue(QUEUES.deadLetter, { connection: redis, prefix });
    const ac = new AbortController();
    const run = service.run(ac.signal);
    try {
      const jobs = await eventually('the five good events in batches', async () => {
        const all = await batches.getJobs(['waiting']);
        return all.reduce((n, j) => n + (j.data as { count: number }).count, 0) === 5 ? all : undefined;
      }, 10_000);
      const seqs = jobs.flatMap((j) => [...Array((j.data as { count: number }).count).keys()].map((k) => (j.data as { seqStart: number }).seqStart + k));
      expect(Math.max(...seqs)).toBeLessThanOrEqual(5); // seq 1..5: the bad event took no seq
      const letters = (await dlq.getJobs(['waiting'])).map((j) => j.data as DeadLetter);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ queue: CHANGE_EVENTS, reason: 'malformed change event: no clusterTime' });
      expect(lines.some((l) => l.level === 'error' && String(l.msg).startsWith('change event dead-lettered'))).toBe(true);
      expect(service.state).toBe('reading');
      // dlq:replay has nowhere to put it back: it stays for the operator.
      expect(await replayDeadLetters(redis, prefix)).toBe(0);
      expect(await dlq.count()).toBe(1);
    } finally {
      ac.abort();
      await run;
      await dlq.close();
    }
  });

  it('pauses at CHANNEL_BUFFER_SIZE events not yet in S3 instead of reading on', async () => {
    const prefix = `{r-buf-${Date.now()}}`;
    const { service, checkpoints, batches } = reader(synthetic(0), prefix, { bufferLimit: 300 });
    const ac = new AbortController();
    const run = service.run(ac.signal);
    try {
      await eventually('the reader to fill its buffer', () => service.lastSeq >= 300, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(service.lastSeq).toBe(300);
      // Storing the first batches frees room, and reading resumes.
      for (const r of (await checkpoints.records('db')).filter((r) => r.state === 'cut').slice(0, 2)) await checkpoints.complete('db', r.id);
      await eventually('reading to resume', () => service.lastSeq > 300, 10_000);
    } finally {
      ac.abort();
      await run;
      await batches.close();
    }
  });

  it('ON_HISTORY_LOST=fail: stops reading, says what to do, counts it, reports history_lost', async () => {
    const prefix = `{r-hl-${Date.now()}}`;
    const source = new HistoryLostOnce();
    const { service, registry, lines } = reader(source, prefix, { onHistoryLost: 'fail' });
    await service.run(new AbortController().signal); // returns by itself
    expect(service.state).toBe('history_lost');
    expect(source.reads).toHaveLength(1);
    expect(lines.find((l) => l.level === 'fatal')?.msg).toMatch(/HISTORY LOST.*backfill/s);
    expect(await registry.getSingleMetricAsString('runnel_history_lost_total')).toMatch(/stream="db".* 1/);
  });

  it('ON_HISTORY_LOST=latest: resets the checkpoint loudly and reads on from now', async () => {
    const prefix = `{r-hl2-${Date.now()}}`;
    const source = new HistoryLostOnce();
    const { service, checkpoints, batches, lines } = reader(source, prefix, { onHistoryLost: 'latest' });
    // A stale checkpoint from before.
    await checkpoints.open('db', { collection: 'a', seqStart: 1, tokenBefore: { _data: 'old' } });
    const ac = new AbortController();
    const run = service.run(ac.signal);
    try {
      await eventually('reading from now', () => source.reads.length >= 2 && service.state === 'reading', 10_000);
      expect(source.reads[1]).toBeUndefined();
      expect(lines.some((l) => l.level === 'error' && /ON_HISTORY_LOST=latest/.test(String(l.msg)))).toBe(true);
      expect((await checkpoints.records('db')).some((r) => r.tokenBefore._data === 'old')).toBe(false);
    } finally {
      ac.abort();
      await run;
      await batches.close();
    }
  });
});
