import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { RedisCluster, RedisServer } from '@runnel/testing';
import { RunEventLog, type LoggedEvent } from './run-event-log';
import { RunCancellation, RunCancelledError } from './run-cancellation';

let server: RedisServer;
const clients: Redis[] = [];
const client = (): Redis => {
  const c = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  clients.push(c);
  return c;
};
/** One "replica": its own command and subscriber connections. */
const replica = (prefix: string, pollMs = 1_000): RunEventLog => new RunEventLog(client(), client(), { prefix, retainSeconds: 60 }, pollMs);
const collect = async (it: AsyncGenerator<LoggedEvent>): Promise<LoggedEvent[]> => {
  const out: LoggedEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
};

beforeAll(async () => {
  server = await RedisServer.start({ durable: false });
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await server.stop();
});

describe('RunEventLog', () => {
  it('a reader on another replica receives every event in order while the run writes, and stops at the end', async () => {
    const prefix = `t${randomUUID()}`;
    const writer = replica(prefix);
    const reader = replica(prefix);
    const run = randomUUID();
    const read = collect(reader.read(run, '0-0'));
    for (let i = 0; i < 5; i++) {
      await writer.append(run, 'values', JSON.stringify({ i }));
      await new Promise((r) => setTimeout(r, 5));
    }
    await writer.end(run);
    const events = await read;
    expect(events.map((e) => [e.event, JSON.parse(e.data).i])).toEqual([0, 1, 2, 3, 4].map((i) => ['values', i]));
    expect(await writer.ended(run)).toBe(true);
    expect(await client().ttl(writer.key(run))).toBeGreaterThan(0);
  });

  it('resumes after a given event id without repeats (joinStream with Last-Event-ID)', async () => {
    const prefix = `t${randomUUID()}`;
    const log = replica(prefix);
    const run = randomUUID();
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await log.append(run, 'updates', String(i)));
    await log.end(run);
    const rest = await collect(replica(prefix).read(run, ids[1]));
    expect(rest.map((e) => e.data)).toEqual(['2', '3']);
    expect(rest[0].id).toBe(ids[2]);
  });

  it('wakes on a notification, not on the poll: a live event arrives well within the poll interval', async () => {
    const prefix = `t${randomUUID()}`;
    const writer = replica(prefix);
    const reader = replica(prefix, 10_000);
    const run = randomUUID();
    const it = reader.read(run, '0-0');
    const first = it.next();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await writer.append(run, 'values', '1');
    const got = await first;
    expect(got.value?.data).toBe('1');
    expect(Date.now() - t0).toBeLessThan(2_000);
    await it.return(undefined);
  });

  it('ends the read when the run is no longer expected (deleted before it wrote) or the signal aborts', async () => {
    const prefix = `t${randomUUID()}`;
    const reader = replica(prefix, 50);
    expect(await collect(reader.read(randomUUID(), '0-0', undefined, async () => false))).toEqual([]);
    const ac = new AbortController();
    const reading = collect(reader.read(randomUUID(), '0-0', ac.signal));
    setTimeout(() => ac.abort(), 100);
    expect(await reading).toEqual([]);
  });
});

describe('RunEventLog on a Redis Cluster', () => {
  let cluster: RedisCluster;
  const clusterClients: Cluster[] = [];
  const clusterClient = (): Cluster => {
    const c = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0].port }], { redisOptions: { maxRetriesPerRequest: 1 } });
    clusterClients.push(c);
    return c;
  };
  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    for (const c of clusterClients) c.disconnect();
    await cluster?.stop();
  });

  it("runs whose keys live on different nodes: each append's pipelined notification and the end's MULTI wake readers on every node", async () => {
    const prefix = `t${randomUUID()}`;
    const writer = new RunEventLog(clusterClient(), clusterClient(), { prefix, retainSeconds: 60 });
    // A poll longer than the test: only the notifications can wake the readers.
    const reader = new RunEventLog(clusterClient(), clusterClient(), { prefix, retainSeconds: 60 }, 60_000);
    const runs: string[] = [];
    const nodes = new Set<number>();
    while (nodes.size < 3) {
      const run = randomUUID();
      const node = await cluster.nodeFor(writer.key(run));
      if (nodes.has(node.port)) continue;
      nodes.add(node.port);
      runs.push(run);
    }
    const reads = runs.map((run) => collect(reader.read(run, '0-0')));
    await new Promise((r) => setTimeout(r, 100));
    for (const run of runs) {
      for (let i = 0; i < 3; i++) await writer.append(run, 'values', String(i));
      await writer.end(run);
    }
    const t0 = Date.now();
    const results = await Promise.all(reads);
    expect(Date.now() - t0).toBeLessThan(5_000);
    for (const events of results) expect(events.map((e) => e.data)).toEqual(['0', '1', '2']);
    for (const run of runs) {
      expect(await writer.ended(run)).toBe(true);
      expect(await clusterClient().ttl(writer.key(run))).toBeGreaterThan(0);
    }
  }, 30_000);
});

describe('RunCancellation', () => {
  it('aborts a run on another replica with RunCancelledError, and a run cancelled before it started is aborted when watched', async () => {
    const prefix = `t${randomUUID()}`;
    const worker = new RunCancellation(client(), client(), { prefix, retainSeconds: 60 });
    const api = new RunCancellation(client(), client(), { prefix, retainSeconds: 60 });
    const run = randomUUID();
    const ac = new AbortController();
    const unwatch = await worker.watch(run, ac);
    const aborted = new Promise<unknown>((resolve) => ac.signal.addEventListener('abort', () => resolve(ac.signal.reason)));
    await api.cancel(run, 'rollback');
    const reason = await aborted;
    expect(reason).toBeInstanceOf(RunCancelledError);
    expect((reason as RunCancelledError).action).toBe('rollback');
    unwatch();

    const early = randomUUID();
    await api.cancel(early, 'interrupt');
    const ac2 = new AbortController();
    await worker.watch(early, ac2);
    expect(ac2.signal.aborted).toBe(true);
    expect((ac2.signal.reason as RunCancelledError).action).toBe('interrupt');
  });
});
