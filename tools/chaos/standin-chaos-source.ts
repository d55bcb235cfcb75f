import type { S3Client } from '@aws-sdk/client-s3';
import { MongoClient, type ResumeToken } from 'mongodb';
import { eventually, MongoStandIn } from '@runnel/testing';
import { describeWorkload, runWorkload, type WorkloadReport } from '../mongo/workload';
import { type ChaosHarness, type ChaosScenario, type ChaosSource, type SourceCheck, standInReaderEnv } from './chaos-source';
import { type ChangeEnvelope, lakeState, readLakeEnvelopes } from '@runnel/lake';
import { compareStates, serverCollectionState } from './collection-state';
import { currentResumeToken, lakeEventKey, sourceEventKeys } from './source-events';

export interface StandInChaosOptions {
  /** Change events the workload writes. */
  events: number;
  /** Its writes per second. */
  rate: number;
  seed?: number;
  /** One update whose change event is above 16 MiB (read with OVERSIZE_EVENTS=split). Default true. */
  oversizeEvent?: boolean;
}

const DATABASE = 'shop';
const COLLECTIONS = ['orders', 'customers', 'products'];
const LEASE_TTL_MS = 1500; // what runPipelineChaos gives the readers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The MongoDB stand-in (libs/testing) as the chaos run's source, read by two change-reader replicas
 * through the real driver (SOURCE=mongodb, FULL_DOCUMENT=updateLookup, OVERSIZE_EVENTS=split,
 * ON_HISTORY_LOST=fail) while the workload writer changes documents. The stand-in runs in this
 * process, so it lives on while the services are killed. Scenarios: a forced 286 on resume (the
 * reader must stop and report not ready, then an operator's restart continues with nothing lost)
 * and a lease takeover (the holder SIGSTOPped past the lease TTL, the standby takes over, the old
 * holder, continued, must stand by). The check: the collections rebuilt from the lake equal the
 * stand-in's, document by document.
 */
export function standInChaosSource(o: StandInChaosOptions): ChaosSource {
  let mongo: MongoStandIn | undefined;
  let client: MongoClient | undefined;
  /** The stand-in and the harness's client to it (after start). */
  const standIn = () => {
    if (!mongo || !client) throw new Error('the stand-in source is not started');
    return { mongo, client };
  };
  const writer = new AbortController();
  let workload: Promise<WorkloadReport> | undefined;
  let done: WorkloadReport | undefined;
  /** The database stream's position before the first write: where the source's own event list starts. */
  let startToken: ResumeToken | undefined;

  const sourceEvents = () => sourceEventKeys(standIn().client, DATABASE, startToken);

  /** Source events the lake lacks, and lake events the source does not have (first few of each), with their lake neighbours. */
  async function compareEvents(lakeEvents: ChangeEnvelope[]): Promise<{ source: number; missing: string[]; extra: string[] }> {
    const source = await sourceEvents();
    const inLake = new Map(lakeEvents.map((e) => [lakeEventKey(e), e]));
    const inSource = new Set(source);
    const missing: string[] = [];
    source.forEach((k, i) => {
      if (inLake.has(k)) return;
      const before = source.slice(0, i).reverse().find((x) => inLake.has(x));
      const after = source.slice(i + 1).find((x) => inLake.has(x));
      missing.push(`${k} (between lake seq ${(before && inLake.get(before)?.seq) ?? '–'} and ${(after && inLake.get(after)?.seq) ?? '–'})`);
    });
    const extra = lakeEvents.filter((e) => !inSource.has(lakeEventKey(e))).map((e) => `seq ${e.seq}: ${lakeEventKey(e)}`);
    return { source: source.length, missing, extra };
  }

  const historyLost: ChaosScenario = {
    name: 'history-lost',
    at: 0.3,
    async run(h) {
      // One reader only, so the one that resumes is the one that meets the 286.
      for (const r of h.readers) await h.stopReader(r);
      await standIn().client.db('admin').command({ runnelFault: { command: 'aggregate', changeStream: true, error: { code: 286 }, times: 1 } });
      const first = h.startReader(h.readers[0]);
      const lost = await eventually('the reader to report history lost', async () => {
        const s = await first.status();
        return s && s.status !== 200 && s.state === 'history_lost' ? s : undefined;
      }, 60_000, 200);
      // It must stay stopped, not skip ahead: the checkpoint does not move while it waits.
      await sleep(2000);
      const later = await first.status();
      if (later?.state !== 'history_lost' || later.checkpointSeq !== lost.checkpointSeq) {
        throw new Error(`after history lost the reader went on by itself: ${JSON.stringify(lost)} → ${JSON.stringify(later)}`);
      }
      // The operator's restart, the fault gone (it was one-shot): both replicas again.
      await h.stopReader(first, 'SIGTERM');
      const again = h.readers.map((r) => h.startReader(r));
      const reading = await eventually('a reader to read again after the restart', () => h.activeReader(), 60_000, 200);
      void again;
      return `the reader stopped with history lost (/ready ${lost.status}, checkpoint held at ${lost.checkpointSeq}); after a restart ${reading.name} reads again`;
    },
  };

  const takeover: ChaosScenario = {
    name: 'lease-takeover',
    at: 0.7,
    async run(h) {
      for (const r of h.readers) if (!r.process.running) h.startReader(r);
      const holder = await eventually('a reader holding the lease', () => h.activeReader(), 60_000, 200);
      const standby = h.readers.find((r) => r.name !== holder.name);
      if (!standby) throw new Error('the lease takeover needs a second reader replica');
      let seen: Awaited<ReturnType<typeof standby.status>>;
      await eventually('the other replica to stand by', async () => (seen = await standby.status())?.state === 'standby', 30_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}: ${standby.name} is ${JSON.stringify(seen)}; ${holder.name} holds the lease\n${standby.process.stdout.slice(-3000)}`);
      });
      const t0 = Date.now();
      holder.process.child.kill('SIGSTOP');
      try {
        const took = await eventually('the standby to take the lease', async () => ((await standby.status())?.state === 'reading' ? Date.now() - t0 : undefined), 10 * LEASE_TTL_MS, 100);
        // Let the new holder write (hand batches on, move the checkpoint) while the old one is frozen.
        const before = (await standby.status())?.checkpointSeq ?? 0;
        await eventually('the new holder to move the checkpoint', async () => ((await standby.status())?.checkpointSeq ?? 0) > before, 5000, 200).catch(() => undefined);
        const mark = holder.process.stdout.length;
        holder.process.child.kill('SIGCONT');
        // The old holder must notice that its lease is gone and stand by (its log says so, /ready
        // says standby) — it cannot write meanwhile: every write is fenced. On a starved machine
        // the new holder can lose the lease in turn (1.5 s TTL) and the old one legitimately take it
        // back in a new term; that is right too, once it has stood by first.
        let held: Awaited<ReturnType<typeof holder.status>>;
        const stoodBy = await eventually('the old holder to stand by', async () => {
          held = await holder.status();
          const noticed = holder.process.stdout.slice(mark).includes('lease lost; standing by');
          return held?.state === 'standby' || noticed ? Date.now() - t0 : undefined;
        }, 30_000, 100).catch((err: Error) => {
          throw new Error(`${err.message}: ${holder.name} is ${JSON.stringify(held)}; ${standby.name} reads\n${holder.process.stdout.slice(-4000)}`);
        });
        await eventually('a reader reading after the takeover', () => h.activeReader(), 30_000, 200);
        return `${holder.name} SIGSTOPped; ${standby.name} took over after ${took} ms; ${holder.name} continued and stood by (${stoodBy} ms after the stop)`;
      } finally {
        holder.process.child.kill('SIGCONT');
      }
    },
  };

  return {
    name: 'standin',
    replicas: 2,
    scenarios: [historyLost, takeover],
    async start() {
      mongo = await MongoStandIn.start({});
      client = new MongoClient(mongo.uri, { appName: 'runnel-chaos' });
      await client.connect();
    },
    // Change events only (the workload's count is the stream's); the snapshot's chaos run is snapshot-chaos-source.ts.
    readerEnv: () => ({ ...standInReaderEnv(standIn().mongo.uri, DATABASE), SNAPSHOT_MODE: 'never' }),
    async begin(h: ChaosHarness) {
      // Write only once the stream has a position: the stream starts where the reader first opened
      // its change stream ("from now"), and a reader that died before saving that position would
      // start from a later "now" and never see the first writes.
      const r = await eventually('a reader to record its first position', async () => {
        for (const x of h.readers) {
          const s = await x.status();
          if (s?.state === 'reading' && s.hasPosition) return x;
        }
        return undefined;
      }, 60_000, 200);
      startToken = await currentResumeToken(standIn().client, DATABASE);
      h.log(`chaos: ${r.name} reads the stand-in from its first position; the workload writer starts (${o.events} events at ${o.rate}/s)`);
      workload = runWorkload({ client, database: DATABASE, collections: COLLECTIONS, count: o.events, rate: o.rate, seed: o.seed ?? 1, oversizeEvent: o.oversizeEvent ?? true, signal: writer.signal });
      workload.catch(() => undefined);
    },
    async expectedEvents() {
      if (!workload) throw new Error('the workload never started');
      done = await workload;
      return done.events;
    },
    async check(s3: S3Client, bucket: string, prefix: string): Promise<SourceCheck> {
      // The stream is the database watched (MONGODB_DATABASE, all its collections).
      const envelopes = await readLakeEnvelopes(s3, bucket, prefix, DATABASE);
      const lake = lakeState(envelopes);
      const server = await serverCollectionState(standIn().client, DATABASE, COLLECTIONS);
      const c = compareStates(lake.collections, server);
      const ev = await compareEvents(envelopes);
      return {
        ok: c.equal && lake.unknown.length === 0 && ev.missing.length === 0 && ev.extra.length === 0,
        lines: [
          `workload: ${done ? describeWorkload(done) : 'not run'}`,
          `events: ${ev.source} on the stand-in; ${ev.missing.length === 0 && ev.extra.length === 0 ? 'each one in the lake (by cluster time, collection and key)' : `${ev.missing.length} NOT in the lake, ${ev.extra.length} in the lake but not on the stand-in`}`,
          ...[...ev.missing, ...ev.extra].slice(0, 10).map((x) => `  ${x}`),
          `state: ${c.documents} documents on the stand-in; lake state (libs/lake lakeState over ${lake.events} events) ${c.equal ? '= stand-in state, document by document' : `DIFFERS: ${c.missing} missing, ${c.different} different, ${c.extra} extra`}` +
            `${lake.unknown.length ? `; ${lake.unknown.length} documents whose last event carried no version` : ''}`,
          ...c.samples.map((s) => `  ${s}`),
        ],
        details: { workload: done, state: c, unknown: lake.unknown.length },
      };
    },
    async diagnose(s3: S3Client, bucket: string, prefix: string) {
      const ev = await compareEvents(await readLakeEnvelopes(s3, bucket, prefix, DATABASE));
      return [`events: ${ev.source} on the stand-in, ${ev.missing.length} not in the lake, ${ev.extra.length} in the lake only`, ...[...ev.missing, ...ev.extra].slice(0, 20).map((x) => `  ${x}`)];
    },
    async stop() {
      writer.abort();
      await workload?.catch(() => undefined);
      await client?.close().catch(() => undefined);
      await mongo?.stop();
    },
  };
}
