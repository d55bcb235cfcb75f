import { type ChangeStreamDocument, type Document, MongoClient } from 'mongodb';
import { MongoStandIn } from '@runnel/testing';
import { serverCollectionState } from '../chaos/collection-state';
import { runWorkload } from './workload';

/** The workload writer through the real driver, on the stand-in; its events read back with a change stream. */
describe('workload writer', () => {
  const started: { mongo: MongoStandIn; client: MongoClient }[] = [];
  const standIn = async () => {
    const mongo = await MongoStandIn.start({});
    const client = await new MongoClient(mongo.uri).connect();
    started.push({ mongo, client });
    return { mongo, client };
  };
  afterEach(async () => {
    for (const { mongo, client } of started.splice(0)) {
      await client.close();
      await mongo.stop();
    }
  });

  /** Every change event of database `shop` from `token` on, until `count` (fragments of a split event count once). */
  async function events(client: MongoClient, token: unknown, count: number, pipeline: Document[] = []): Promise<ChangeStreamDocument[]> {
    const cs = client.db('shop').watch(pipeline, { resumeAfter: token as Document, fullDocument: 'updateLookup', maxAwaitTimeMS: 100 });
    const out: ChangeStreamDocument[] = [];
    try {
      const deadline = Date.now() + 30_000;
      while (out.filter((e) => !('splitEvent' in e) || (e.splitEvent as { fragment: number }).fragment === 1).length < count) {
        if (Date.now() > deadline) throw new Error(`only ${out.length} of ${count} events`);
        const e = await cs.tryNext();
        if (e) out.push(e);
      }
      return out;
    } finally {
      await cs.close();
    }
  }

  /** The position before anything is written. */
  async function startToken(client: MongoClient): Promise<unknown> {
    const cs = client.db('shop').watch([], { maxAwaitTimeMS: 50 });
    await cs.tryNext();
    const token = cs.resumeToken;
    await cs.close();
    return token;
  }

  it('causes exactly one change event per counted write, of every kind, and updateLookup sees the later version of a raced update', async () => {
    const { mongo, client } = await standIn();
    const token = await startToken(client);
    const r = await runWorkload({ uri: mongo.uri, count: 400, seed: 3 });
    expect(r).toMatchObject({ events: 400, aborted: false, oversizeEvents: 0 });
    expect(r.inserts + r.updates + r.replaces + r.deletes).toBe(400);
    for (const n of [r.inserts, r.updates, r.replaces, r.deletes, r.racedUpdates]) expect(n).toBeGreaterThan(0);

    const seen = await events(client, token, 400);
    const kinds = (op: string) => seen.filter((e) => e.operationType === op).length;
    expect({ insert: kinds('insert'), update: kinds('update'), replace: kinds('replace'), delete: kinds('delete') }).toEqual({ insert: r.inserts, update: r.updates, replace: r.replaces, delete: r.deletes });
    // Read after all writes: each update's lookup returns the document as it is now, or null once
    // deleted — never the version its own write made when a second write followed.
    const now = await serverCollectionState(client, 'shop', r.collections);
    const updates = seen.filter((e): e is Extract<ChangeStreamDocument, { operationType: 'update' }> => e.operationType === 'update');
    expect(updates.some((e) => e.fullDocument === null)).toBe(true);
    const current = await Promise.all(updates.map((e) => client.db('shop').collection(e.ns.coll).findOne({ _id: e.documentKey._id })));
    updates.forEach((e, i) => expect(e.fullDocument ?? null).toEqual(current[i]));
    expect([...now.values()].reduce((s, docs) => s + docs.size, 0)).toBe(r.liveDocuments);
  });

  it('writes the same documents for the same seed, and others for another seed', async () => {
    const states = [];
    for (const seed of [5, 5, 6]) {
      const { mongo, client } = await standIn();
      const r = await runWorkload({ uri: mongo.uri, count: 200, seed, documentBytes: 600 });
      states.push(await serverCollectionState(client, 'shop', r.collections));
    }
    expect(states[1]).toEqual(states[0]);
    expect(states[2]).not.toEqual(states[0]);
  });

  it('stops when its signal aborts, and says so', async () => {
    const { mongo } = await standIn();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await runWorkload({ uri: mongo.uri, rate: 50, signal: ac.signal });
    expect(r.aborted).toBe(true);
    expect(r.events).toBeGreaterThan(0);
    expect(r.events).toBeLessThan(100);
  });

  it('writes one update whose change event is above 16 MiB: read whole it fails the cursor, split it arrives in fragments', async () => {
    const { mongo, client } = await standIn();
    const token = await startToken(client);
    const r = await runWorkload({ uri: mongo.uri, count: 10, seed: 1, oversizeEvent: true });
    expect(r.oversizeEvents).toBe(1);
    await expect(events(client, token, 10)).rejects.toMatchObject({ code: 10334 });
    const split = await events(client, token, 10, [{ $changeStreamSplitLargeEvent: {} }]);
    const fragments = split.filter((e) => 'splitEvent' in e).map((e) => (e as { splitEvent: { fragment: number; of: number } }).splitEvent);
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    expect(fragments).toEqual(fragments.map((_, i) => ({ fragment: i + 1, of: fragments.length })));
  }, 60_000);
});
