import { type ChangeStream, type Collection, type Document, MongoClient, MongoServerError } from 'mongodb';
import { type StandInWithDriver, startWithDriver, stopWithDriver } from './driver-fixture';
import type { MongoStandIn } from './mongo-stand-in';

/**
 * Injected faults, and the REAL driver's own recovery from them: on a resumable error the driver
 * re-opens the stream from its token by itself, and the events must continue with nothing lost
 * and nothing repeated.
 */
describe('MongoStandIn faults (real driver)', () => {
  let s: StandInWithDriver;
  let m: MongoStandIn;
  let client: MongoClient;
  let n = 0;
  const fresh = (): Collection<any> => client.db('faults').collection(`f${++n}`);

  beforeAll(async () => ({ m, client } = s = await startWithDriver({ heartbeatFrequencyMS: 500, monitorCommands: true })));
  afterEach(() => m.faults.clear());

  afterAll(() => stopWithDriver(s));

  /** Inserts _ids from..to-1, one statement each. */
  async function insert(c: Collection<any>, from: number, to: number): Promise<void> {
    for (let i = from; i < to; i++) await c.insertOne({ _id: i });
  }

  /** Reads `count` events and returns their _ids, then checks that nothing more comes. */
  async function readIds(cs: ChangeStream, count: number): Promise<unknown[]> {
    const ids: unknown[] = [];
    while (ids.length < count) ids.push(((await cs.next()) as Document)['documentKey']._id);
    expect(await cs.tryNext()).toBeNull();
    return ids;
  }

  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

  async function resumesAfter(fault: Parameters<MongoStandIn['faults']['inject']>[0]): Promise<void> {
    const c = fresh();
    const cs = c.watch([], { maxAwaitTimeMS: 100, batchSize: 3 });
    await cs.tryNext();
    await insert(c, 0, 5);
    const firstFive = [];
    for (let i = 0; i < 5; i++) firstFive.push(((await cs.next()) as Document)['documentKey']._id);
    const aggregatesBefore = m.changeStreamAggregates().length;
    const f = m.faults.inject(fault);
    await insert(c, 5, 12);
    const rest = await readIds(cs, 7);
    expect([...firstFive, ...rest]).toEqual(range(0, 12));
    expect(f.fired).toBe(1);
    // The driver resumed: a new aggregate, from the token it had.
    const resumed = m.changeStreamAggregates().slice(aggregatesBefore);
    expect(resumed.length).toBe(1);
    expect(resumed[0].options['resumeAfter']).toBeDefined();
    await cs.close();
  }

  it('a dropped connection on getMore: the driver resumes, no loss, no repeat', async () => {
    await resumesAfter({ command: 'getMore', closeConnection: true, changeStream: true });
  });

  it('a getMore answered and then lost (the connection drops after the events were taken): still no loss', async () => {
    await resumesAfter({ command: 'getMore', closeConnection: true, changeStream: true, afterExecution: true });
  });

  it('NotWritablePrimary (10107) on getMore carries ResumableChangeStreamError, and the driver resumes', async () => {
    const failures: MongoServerError[] = [];
    const listener = (e: { failure: Error }) => failures.push(e.failure as MongoServerError);
    client.on('commandFailed', listener);
    await resumesAfter({ command: 'getMore', error: { code: 10107 }, changeStream: true });
    client.off('commandFailed', listener);
    expect(failures.map((f) => [f.code, f.errorLabels])).toEqual([[10107, ['ResumableChangeStreamError']]]);
  });

  it('CursorNotFound (43) on getMore: the cursor is gone and the driver resumes', async () => {
    await resumesAfter({ command: 'getMore', error: { code: 43 }, changeStream: true });
  });

  it('forgetCursors (a failover): the next getMore answers 43 and the driver resumes', async () => {
    const c = fresh();
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    await insert(c, 0, 2);
    expect(await readIds(cs, 2)).toEqual([0, 1]);
    expect(m.forgetCursors()).toBeGreaterThan(0);
    await insert(c, 2, 4);
    expect(await readIds(cs, 2)).toEqual([2, 3]);
    await cs.close();
  });

  it('a stall longer than the socket timeout: the driver times out, resumes, no loss', async () => {
    const impatient = new MongoClient(m.uri, { socketTimeoutMS: 1000 });
    try {
      const c = impatient.db('faults').collection<any>(`f${++n}`);
      const cs = c.watch([], { maxAwaitTimeMS: 100 });
      await cs.tryNext();
      await insert(c, 0, 3);
      expect(await readIds(cs, 3)).toEqual([0, 1, 2]);
      const f = m.faults.inject({ command: 'getMore', delayMs: 2500, changeStream: true });
      await insert(c, 3, 6);
      expect(await readIds(cs, 3)).toEqual([3, 4, 5]);
      expect(f.fired).toBe(1);
      await cs.close();
    } finally {
      await impatient.close();
    }
  });

  it('a short stall only delays the reply', async () => {
    const c = fresh();
    await c.insertOne({ _id: 1 });
    m.faults.inject({ command: 'find', delayMs: 300 });
    const started = Date.now();
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('a one-shot 286 on getMore ends the stream with ChangeStreamHistoryLost (not resumable)', async () => {
    const c = fresh();
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    m.faults.inject({ command: 'getMore', error: { code: 286 }, changeStream: true });
    await expect(cs.next()).rejects.toMatchObject({ code: 286, codeName: 'ChangeStreamHistoryLost' });
    expect(cs.closed).toBe(true);
    // One-shot: a new stream works.
    const again = c.watch([], { maxAwaitTimeMS: 100 });
    expect(await again.tryNext()).toBeNull();
    await again.close();
  });

  it('skip lets matching commands through first, times limits the firings', async () => {
    const c = fresh();
    const f = m.faults.inject({ command: 'insert', error: { code: 2, errmsg: 'nope' }, skip: 1, times: 2 });
    await c.insertOne({ _id: 1 });
    const noRetry = new MongoClient(m.uri, { retryWrites: false });
    try {
      const d = noRetry.db('faults').collection<any>(c.collectionName);
      await expect(d.insertOne({ _id: 2 })).rejects.toMatchObject({ code: 2, message: 'nope' });
      await expect(d.insertOne({ _id: 3 })).rejects.toMatchObject({ code: 2 });
      await d.insertOne({ _id: 4 });
    } finally {
      await noRetry.close();
    }
    expect(f.fired).toBe(2);
    expect(await c.countDocuments()).toBe(2);
  });

  it('a retryable write whose reply is lost is retried by the driver and applied once', async () => {
    const c = fresh();
    const cs = c.watch([], { maxAwaitTimeMS: 100 });
    await cs.tryNext();
    const f = m.faults.inject({ command: 'insert', closeConnection: true, afterExecution: true });
    await c.insertOne({ _id: 'once' });
    expect(f.fired).toBe(1);
    expect(m.count('insert')).toBeGreaterThanOrEqual(2);
    expect(await c.countDocuments()).toBe(1);
    expect(await readIds(cs, 1)).toEqual(['once']);
    await cs.close();
  });

  it('NotWritablePrimary on a retryable write carries RetryableWriteError and the driver retries', async () => {
    const c = fresh();
    m.faults.inject({ command: 'insert', error: { code: 10107 } });
    await c.insertOne({ _id: 1 });
    expect(await c.countDocuments()).toBe(1);
  });

  describe('over the wire (another process steering the stand-in)', () => {
    it('runnelFault / runnelStatus / runnelClearFaults', async () => {
      const admin = client.db('admin');
      const r = await admin.command({ runnelFault: { command: 'find', error: { code: 10334, errmsg: 'too big' }, times: 'always' } });
      expect(r['id']).toBeGreaterThan(0);
      const c = fresh();
      await expect(c.findOne({})).rejects.toMatchObject({ code: 10334, codeName: 'BSONObjectTooLarge' });
      const status = await admin.command({ runnelStatus: 1 });
      expect(status['faults']).toEqual([expect.objectContaining({ command: 'find', left: 'always' })]);
      expect(await admin.command({ runnelClearFaults: 1 })).toMatchObject({ cleared: 1 });
      expect(await c.findOne({})).toBeNull();
    });

    it('runnelFault with closeConnection on a change stream getMore: the driver resumes', async () => {
      const c = fresh();
      const cs = c.watch([], { maxAwaitTimeMS: 100 });
      await cs.tryNext();
      await client.db('admin').command({ runnelFault: { command: 'getMore', closeConnection: true, changeStream: true } });
      await insert(c, 0, 3);
      expect(await readIds(cs, 3)).toEqual([0, 1, 2]);
      await cs.close();
    });

    it('runnelForgetCursors and runnelTruncateOplog', async () => {
      const c = fresh();
      const cs = c.watch([], { maxAwaitTimeMS: 100 });
      await cs.tryNext();
      await insert(c, 0, 2);
      const [first] = [await cs.next()];
      expect(await client.db('admin').command({ runnelForgetCursors: 1 })).toMatchObject({ ok: 1 });
      expect(((await cs.next()) as Document)['documentKey']._id).toBe(1);
      await cs.close();
      const t = await client.db('admin').command({ runnelTruncateOplog: 1 });
      expect(t['dropped']).toBeGreaterThan(0);
      const late = c.watch([], { resumeAfter: first._id });
      await expect(late.next()).rejects.toMatchObject({ code: 286 });
      await late.close();
    });

    it("the server's own configureFailPoint failCommand", async () => {
      const admin = client.db('admin');
      await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['find'], errorCode: 2, errmsg: 'failpoint' } });
      const c = fresh();
      await expect(c.findOne({})).rejects.toMatchObject({ code: 2 });
      expect(await c.findOne({})).toBeNull();
      await admin.command({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['find'], errorCode: 2 } });
      await expect(c.findOne({})).rejects.toMatchObject({ code: 2 });
      await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
      expect(await c.findOne({})).toBeNull();
    });
  });
});
