import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CheckpointStore, StreamLease } from '@runnel/checkpoint';
import { createMetricsRegistry, pipelineMetrics } from '@runnel/metrics';
import { createLogCapture, createLogger } from '@runnel/telemetry';
import { BodyStore, CHANGE_EVENTS, type DeadLetter, QUEUES, replayDeadLetters } from '@runnel/queue';
import { eventually, RedisServer } from '@runnel/testing';
import { ChangeReaderService } from './change-reader.service';
import { type ChangeSource, HistoryLostError, OversizeEventError, type ResumePoint, type SourceItem } from './sources/change-source';
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

function reader(source: ChangeSource, prefix: string, opts: { bufferLimit?: number; onHistoryLost?: 'fail' | 'latest'; auditIntervalMs?: number } = {}) {
  const { destination, lines } = createLogCapture();
  const registry = createMetricsRegistry('change-reader');
  const checkpoints = new CheckpointStore(redis, { prefix, ttlMs: 60_000 });
  const batches = new Queue('batches', { connection: redis, prefix });
  const service = new ChangeReaderService({
    source,
    checkpoints,
    lease: new StreamLease(redis, { prefix, stream: source.stream, holder: 'test', ttlMs: 5_000 }),
    batches,
    objects: new Queue(QUEUES.objects, { connection: redis, prefix }),
    bodies: new BodyStore(redis, prefix),
    deadLetters: new Queue(QUEUES.deadLetter, { connection: redis, prefix }),
    cutter: { batchSize: 100, maxBytes: 10_000_000, timeoutMs: 100 },
    bufferLimit: opts.bufferLimit ?? 1_000_000,
    leaseTtlMs: 5_000,
    onHistoryLost: opts.onHistoryLost ?? 'fail',
    auditIntervalMs: opts.auditIntervalMs ?? 200,
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
        return c?.seq === 250 && c.token?._data === idleToken._data;
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
    expect(lines.find((l) => l.level === 'fatal')?.msg).toMatch(/HISTORY LOST.*SNAPSHOT_MODE=when_needed/s);
    expect(await registry.getSingleMetricAsString('runnel_history_lost_total')).toMatch(/stream="db".* 1/);
    expect(await registry.getSingleMetricAsString('runnel_reader_halted')).toMatch(/stream="db",state="history_lost".*} 1/);
  });

  it('ON_HISTORY_LOST=latest: starts a new generation loudly and reads on from now; its ids never collide with the old ones', async () => {
    const prefix = `{r-hl2-${Date.now()}}`;
    const source = new HistoryLostOnce();
    const { service, checkpoints, batches, lines, registry } = reader(source, prefix, { onHistoryLost: 'latest' });
    const ac = new AbortController();
    const run = service.run(ac.signal);
    try {
      await eventually('reading from now', () => source.reads.length >= 2 && service.state === 'reading', 10_000);
      expect(source.reads[1]).toBeUndefined();
      expect(lines.some((l) => l.level === 'error' && /ON_HISTORY_LOST=latest/.test(String(l.msg)))).toBe(true);
      const generations = await registry.getSingleMetricAsString('runnel_generations_started_total');
      expect(generations).toMatch(/reason="new stream".*} 1/);
      expect(generations).toMatch(/reason="history lost".*} 1/);
      const g = (await checkpoints.generation('db'))!.generation;
      await eventually('the new generation to hand on its batches', async () => (await batches.getJobs(['waiting'])).length > 0, 10_000);
      // seq starts at 1 again, under the new generation: other batch ids, other job ids, other keys.
      const jobs = (await batches.getJobs(['waiting'])).map((j) => j.data as { generation: number; batchId: string; seqStart: number });
      expect(jobs.every((j) => j.generation === g && j.batchId.startsWith(`${g}:`))).toBe(true);
      expect(jobs.some((j) => j.seqStart === 1)).toBe(true);
    } finally {
      ac.abort();
      await run;
      await batches.close();
    }
  });

  it('a checkpoint that expired (CHECKPOINT_TTL) is never a silent restart: ON_HISTORY_LOST=fail stops and says so', async () => {
    const prefix = `{r-ttl-${Date.now()}}`;
    const first = reader(synthetic(50), prefix);
    const ac = new AbortController();
    const run = first.service.run(ac.signal);
    await eventually('a checkpoint', async () => (await first.checkpoints.load('db'))?.token !== undefined, 10_000);
    ac.abort();
    await run;
    await redis.del(`${prefix}:ckpt:db`, `${prefix}:ckpt:db:pending`, `${prefix}:ckpt:db:meta`); // what the TTL does
    const again = reader(synthetic(50), prefix, { onHistoryLost: 'fail' });
    await again.service.run(new AbortController().signal); // returns by itself
    expect(again.service.state).toBe('history_lost');
    expect(again.lines.find((l) => l.level === 'fatal')?.msg).toMatch(/CHECKPOINT MISSING.*CHECKPOINT_TTL/s);
    const latest = reader(synthetic(50), prefix, { onHistoryLost: 'latest' });
    const ac2 = new AbortController();
    const run2 = latest.service.run(ac2.signal);
    try {
      await eventually('a new generation', async () => (await latest.checkpoints.generation('db'))?.reason === 'checkpoint missing', 10_000);
      expect(latest.lines.some((l) => l.level === 'error' && /checkpoint is gone/.test(String(l.msg)))).toBe(true);
    } finally {
      ac2.abort();
      await run2;
    }
  });

  it('Redis coming back empty stops the reader with what happened and what to do, never a restart from now', async () => {
    const prefix = `{r-empty-${Date.now()}}`;
    const { service, lines, checkpoints } = reader(synthetic(0), prefix, { bufferLimit: 500 });
    const ac = new AbortController();
    const run = service.run(ac.signal);
    try {
      await eventually('reading', async () => service.lastSeq > 100 && (await checkpoints.generation('db')) !== undefined, 10_000);
      const keys = await redis.keys(`${prefix}*`);
      await redis.del(...keys); // Redis restarted with no AOF and no RDB
      await eventually('the reader to stop', () => service.state === 'state_lost', 15_000);
      await run;
      expect(lines.find((l) => l.level === 'fatal')?.msg).toMatch(/REDIS STATE LOST.*lake:verify/s);
      expect(await checkpoints.generation('db')).toBeUndefined(); // it did not start a new stream by itself
    } finally {
      ac.abort();
      await run;
    }
  });

  it('Redis losing recent writes: the reader replays and hands on exactly the same batches again', async () => {
    const prefix = `{r-lost-${Date.now()}}`;
    const events = 2000;
    const { service, batches, registry } = reader(synthetic(events), prefix, { bufferLimit: 100_000 });
    const ac = new AbortController();
    const run = service.run(ac.signal);
    const handedOn = async () => new Map((await batches.getJobs(['waiting'])).map((j) => [j.id!, (j.data as { seqStart: number; seqEnd: number; count: number })]));
    try {
      await eventually('some batches handed on', async () => (await handedOn()).size >= 3, 10_000);
      // The state as a replica that lagged had it (or an AOF without the last second).
      // Dumped atomically (one script): what Redis keeps after a loss is a prefix of what was written.
      const flat = (await (redis as unknown as { evalBuffer(...args: (string | number)[]): Promise<Buffer[]> }).evalBuffer("local out = {} for _, k in ipairs(redis.call('KEYS', ARGV[1])) do table.insert(out, k) table.insert(out, redis.call('DUMP', k)) end return out", 0, `${prefix}*`)) as Buffer[];
      const dumps = Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i].toString(), flat[2 * i + 1]] as const);
      await eventually('every event handed on', async () => [...(await handedOn()).values()].reduce((n, b) => n + b.count, 0) === events, 10_000);
      const before = await handedOn();
      // Fail over to it: everything written since is gone (one script, so no write slips in between).
      await redis.eval(
        "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end for i = 2, #ARGV, 2 do redis.call('RESTORE', ARGV[i], 0, ARGV[i + 1], 'REPLACE') end return 1",
        0,
        `${prefix}*`,
        ...dumps.flatMap(([k, d]) => [k, d]),
      );
      expect((await handedOn()).size).toBeLessThan(before.size);
      await eventually('the lost batches handed on again', async () => (await handedOn()).size === before.size, 20_000);
      const after = await handedOn();
      expect([...after.entries()].sort()).toEqual([...before.entries()].sort()); // the same batches, cut at the same events
      expect(await registry.getSingleMetricAsString('runnel_replays_total')).toMatch(/stream="db".*[1-9]/);
    } finally {
      ac.abort();
      await run;
      await batches.close();
    }
  });

  it('OVERSIZE_EVENTS=skip: a skipped event is dead-lettered with its reason and key, and takes no seq', async () => {
    const prefix = `{r-skip-${Date.now()}}`;
    class SkipsThird implements ChangeSource {
      readonly stream = 'db';
      async *read(from: ResumePoint | undefined, signal: AbortSignal): AsyncIterable<SourceItem> {
        for await (const item of synthetic(5).read(from, signal)) {
          if (item.type === 'change' && item.token._data === synthetic(5).change(3)._id._data) {
            yield { type: 'skipped', token: item.token, reason: 'change event of 17000000 bytes of BSON is larger than 16 MiB (OVERSIZE_EVENTS=skip)', namespace: { db: 'db', coll: 'a' }, documentKey: { _id: 7 }, operationType: 'update', bytes: 17_000_000 };
          } else yield item;
        }
      }
    }
    const { service, batches } = reader(new SkipsThird(), prefix);
    const dlq = new Queue(QUEUES.deadLetter, { connection: redis, prefix });
    const ac = new AbortController();
    const run = service.run(ac.signal);
    try {
      await eventually('four events in batches', async () => (await batches.getJobs(['waiting'])).reduce((n, j) => n + (j.data as { count: number }).count, 0) === 4, 10_000);
      expect(service.lastSeq).toBe(4);
      const [letter] = (await dlq.getJobs(['waiting'])).map((j) => j.data as DeadLetter);
      expect(letter).toMatchObject({ queue: CHANGE_EVENTS, reason: expect.stringMatching(/larger than 16 MiB \(OVERSIZE_EVENTS=skip\)/) });
      expect(JSON.stringify(letter.data)).toContain('"documentKey":{"_id":{"$numberInt":"7"}}');
    } finally {
      ac.abort();
      await run;
      await dlq.close();
    }
  });

  it('an OversizeEventError stops the reader (not ready) with the message naming OVERSIZE_EVENTS, instead of retrying for ever', async () => {
    const prefix = `{r-big-${Date.now()}}`;
    class TooLarge implements ChangeSource {
      readonly stream = 'db';
      reads = 0;
      // eslint-disable-next-line require-yield
      async *read(): AsyncIterable<SourceItem> {
        this.reads++;
        throw new OversizeEventError('db', 'too-large', 'fail');
      }
    }
    const source = new TooLarge();
    const { service, lines } = reader(source, prefix);
    await service.run(new AbortController().signal); // returns by itself
    expect(service.state).toBe('oversize_event');
    expect(source.reads).toBe(1);
    expect(lines.find((l) => l.level === 'fatal')?.msg).toMatch(/OVERSIZE EVENT.*OVERSIZE_EVENTS=split/s);
  });
});
