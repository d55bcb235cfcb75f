import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CheckpointStore, type LeaseTerm, StreamLease, type StreamWriter } from '@runnel/checkpoint';
import { BodyStore, deadLetter, jobIdFor, QUEUES } from '@runnel/queue';
import { RedisServer } from '@runnel/testing';
import type { Batch } from './batch-cutter';
import { BatchHandoff } from './batch-handoff';

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

const S = 'shop';
const open: { queues: Queue[]; terms: LeaseTerm[] } = { queues: [], terms: [] };
afterEach(async () => {
  await Promise.all(open.terms.splice(0).map((t) => t.release()));
  await Promise.all(open.queues.splice(0).map((q) => q.close()));
});

async function setup() {
  const prefix = `{h-${randomUUID()}}`;
  const checkpoints = new CheckpointStore(redis, { prefix, ttlMs: 60_000 });
  const term = (await new StreamLease(redis, { prefix, stream: S, holder: 'r', ttlMs: 10_000 }).acquire())!;
  open.terms.push(term);
  const writer = checkpoints.writer(term);
  const generation = await writer.startGeneration(undefined, 'test');
  const queue = (name: string) => {
    const q = new Queue(name, { connection: redis, prefix });
    open.queues.push(q);
    return q;
  };
  const o = { writer, bodies: new BodyStore(redis, prefix), batches: queue(QUEUES.batches), objects: queue(QUEUES.objects), deadLetters: queue(QUEUES.deadLetter) };
  return { prefix, checkpoints, writer, generation, o, handoff: new BatchHandoff(o) };
}

function batch(generation: number, seqStart: number, seqEnd: number, replayed = false): Batch {
  const lines = Array.from({ length: seqEnd - seqStart + 1 }, (_, i) => `{"seq":${seqStart + i}}\n`);
  return {
    id: CheckpointStore.batchId(generation, 'shop.orders', seqStart),
    generation,
    database: 'shop',
    collection: 'orders',
    namespace: 'shop.orders',
    seqStart,
    seqEnd,
    partition: '2026-11-21T22',
    lines,
    operations: { insert: lines.length },
    tokenBefore: { _data: `t${seqStart - 1}` },
    token: { _data: `t${seqEnd}` },
    clusterTime: '1795000000.1',
    bytes: 10,
    replayed,
  };
}

/** Wraps each collaborator so every write is logged in the order it happened. */
function recorded(o: Awaited<ReturnType<typeof setup>>['o']) {
  const log: string[] = [];
  const wrap = <T extends object>(target: T, name: string, methods: string[]): T =>
    new Proxy(target, {
      get(t, p, r) {
        const v = Reflect.get(t, p, r);
        if (typeof v !== 'function' || !methods.includes(String(p))) return typeof v === 'function' ? v.bind(t) : v;
        return async (...args: unknown[]) => {
          const result = await v.apply(t, args);
          log.push(`${name}.${String(p)}`);
          return result;
        };
      },
    });
  return {
    log,
    o: {
      ...o,
      writer: wrap(o.writer as StreamWriter, 'checkpoint', ['open', 'cut']),
      bodies: wrap(o.bodies, 'body', ['putBatch']),
      batches: wrap(o.batches, 'queue', ['add']),
    },
  };
}

describe('BatchHandoff', () => {
  it('writes in the order the guarantee needs: open → cut → body → job', async () => {
    const { o, generation, checkpoints } = await setup();
    const { log, o: spied } = recorded(o);
    const handoff = new BatchHandoff(spied);
    const b = batch(generation, 1, 3);
    await handoff.open(b);
    await handoff.handOn(b);
    expect(log).toEqual(['checkpoint.open', 'checkpoint.cut', 'body.putBatch', 'queue.add']);
    const job = await o.batches.getJob(jobIdFor(S, b.id));
    expect(job?.data).toMatchObject({ v: 3, generation, database: 'shop', collection: 'orders', seqStart: 1, seqEnd: 3, count: 3 });
    expect((await o.bodies.get(job!.data.bodyKey))!.toString()).toBe(b.lines.join(''));
    expect((await checkpoints.records(S))[0]).toMatchObject({ id: b.id, state: 'cut', seqEnd: 3 });
  });

  it('a crash between cut and job leaves a cut record and no job: the replayed batch is handed on again, no new records', async () => {
    const { o, generation, checkpoints } = await setup();
    const b = batch(generation, 1, 3);
    const failing = new BatchHandoff({ ...o, batches: { add: () => Promise.reject(new Error('crash')) } as unknown as Queue });
    await failing.open(b);
    await expect(failing.handOn(b)).rejects.toThrow('crash');
    expect(await o.batches.getJob(jobIdFor(S, b.id))).toBeUndefined();
    const { log, o: spied } = recorded(o);
    await new BatchHandoff(spied).handOn({ ...b, replayed: true });
    expect(log).toEqual(['body.putBatch', 'queue.add']); // the records are as before: nothing recut
    expect(await o.batches.getJob(jobIdFor(S, b.id))).toBeDefined();
    expect((await checkpoints.records(S)).map((r) => r.state)).toEqual(['cut']);
  });

  it('a rebuilt batch never replaces the body an earlier job refers to (the first body stays)', async () => {
    const { handoff, o, generation } = await setup();
    const b = batch(generation, 1, 2);
    await handoff.open(b);
    await handoff.handOn(b);
    const changed = { ...b, replayed: true, lines: ['{"seq":1,"doc":"looked up later"}\n', '{"seq":2}\n'] };
    await handoff.handOn(changed);
    const job = await o.batches.getJob(jobIdFor(S, b.id));
    expect((await o.bodies.get(job!.data.bodyKey))!.toString()).toBe(b.lines.join(''));
  });

  it('vanished: batches of this term that no job carries any more; not dead-lettered ones, not ones still carried', async () => {
    const { handoff, o, generation, checkpoints, prefix } = await setup();
    const [lost, carried, dead] = [batch(generation, 1, 1), batch(generation, 2, 2), batch(generation, 3, 3)];
    for (const b of [lost, carried, dead]) {
      await handoff.open(b);
      await handoff.handOn(b);
    }
    // Redis forgets the first batch's job and body (a restart without fsync).
    await redis.del(`${prefix}:batch-body:${jobIdFor(S, lost.id)}`);
    await (await o.batches.getJob(jobIdFor(S, lost.id)))!.remove();
    // The third was dead-lettered: it waits for an operator, it is not lost.
    await (await o.batches.getJob(jobIdFor(S, dead.id)))!.remove();
    await deadLetter(o.deadLetters, { queue: QUEUES.batches, jobId: jobIdFor(S, dead.id), name: 'batch', data: {}, reason: 'bad', attempts: 5, failedAt: '' });
    // A cut record this term never handed on (the replay has not reached it yet) is not judged.
    const other = batch(generation, 10, 10);
    await o.writer.open(generation, { id: other.id, database: 'shop', collection: 'orders', seqStart: 10, tokenBefore: other.tokenBefore });
    await o.writer.cut(generation, other.id, { seqEnd: 10, token: other.token });
    expect((await handoff.vanished(await checkpoints.records(S))).map((r) => r.id)).toEqual([lost.id]);
  });
});
