import { Long, ObjectId, Timestamp } from 'bson';
import type { ResumeToken } from '@runnel/checkpoint';
import type { ChangeSource, ResumePoint, SourceChange, SourceItem } from './change-source';
import { pause } from '@runnel/service';

export interface SyntheticOptions {
  database: string;
  collections: string[];
  /** Events per second of wall time; 0 = as fast as the pipeline takes them. */
  rate: number;
  /** Total events, then idle; 0 = unlimited. */
  count: number;
  /** Approximate fullDocument size in bytes. */
  documentBytes: number;
  /** Cluster time of event 1, seconds since the epoch. */
  startSeconds: number;
  /** Events per second of *cluster* time: sets how often batches meet an hour boundary. */
  eventsPerClusterSecond: number;
  /** How often to report idle tokens when no event is due, ms. */
  idleIntervalMs: number;
}

const OPS = ['insert', 'insert', 'insert', 'update', 'update', 'replace', 'delete'] as const;

/**
 * A 32-bit integer mix (Wellons' lowbias32): spreads consecutive i over collections, operations
 * and ids like a digest would. The generator used SHA-1/MD5 before, and four digests per event
 * were 20 % of change-reader's CPU in the pipeline benchmark — a cost of the test source, not of
 * reading MongoDB, that made the benchmark measure the generator.
 */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** 12 id bytes from a collection index and a document number: updates and deletes hit earlier ids. */
function objectIdFor(collection: number, doc: number): ObjectId {
  const bytes = Buffer.allocUnsafe(12);
  bytes.writeUInt32BE(mix32(collection + 1), 0);
  bytes.writeUInt32BE(mix32(doc ^ 0x5bd1e995), 4);
  bytes.writeUInt32BE(doc >>> 0, 8);
  return new ObjectId(bytes);
}

/** Token of event i; the idle token after event i sorts after it and resumes at i + 1. */
export function syntheticToken(i: number, idle = false): ResumeToken {
  return { _data: `${i.toString(16).padStart(16, '0')}${idle ? 'ff' : '00'}` };
}

export function positionOf(token: ResumeToken): number {
  const data = token?._data;
  if (typeof data !== 'string' || !/^[0-9a-f]{18}$/.test(data)) throw new Error(`not a synthetic resume token: ${JSON.stringify(token)}`);
  return parseInt(data.slice(0, 16), 16);
}

/**
 * A deterministic, resumable change stream for local runs, load tests and the chaos test. Event i
 * is a pure function of i and the options (collection, operation, document, cluster time), so a
 * reader resuming from event i's token sees exactly the events a real change stream would replay.
 */
export class SyntheticSource implements ChangeSource {
  readonly stream: string;
  readonly #payload: string;

  constructor(private readonly opts: SyntheticOptions) {
    this.stream = opts.database;
    this.#payload = 'x'.repeat(Math.max(0, opts.documentBytes - 120));
  }

  /** Cluster second of event i. */
  secondsOf(i: number): number {
    return this.opts.startSeconds + Math.floor((i - 1) / this.opts.eventsPerClusterSecond);
  }

  change(i: number): SourceChange {
    const o = this.opts;
    const c = mix32(i) % o.collections.length;
    const coll = o.collections[c];
    const op = OPS[mix32(i * 7 + 1) % OPS.length];
    const id = objectIdFor(c, mix32(i * 13) % Math.max(1, Math.floor(i / 2)));
    const seconds = this.secondsOf(i);
    const increment = ((i - 1) % o.eventsPerClusterSecond) + 1;
    const doc = {
      _id: id,
      n: Long.fromNumber(i),
      at: new Date(seconds * 1000),
      name: `item-${i}`,
      payload: this.#payload,
    };
    return {
      _id: syntheticToken(i),
      operationType: op,
      ns: { db: o.database, coll },
      documentKey: { _id: id },
      fullDocument: op === 'delete' ? null : doc,
      updateDescription: op === 'update' ? { updatedFields: { n: Long.fromNumber(i) }, removedFields: [], truncatedArrays: [] } : undefined,
      clusterTime: new Timestamp({ t: seconds, i: increment }),
      wallTime: new Date(seconds * 1000),
    };
  }

  async *read(from: ResumePoint | undefined, signal: AbortSignal): AsyncIterable<SourceItem> {
    let i = from ? positionOf(from.token) + 1 : 1;
    // A fresh start reports the position before event 1 first, so even event 1 has a token before it.
    if (!from) yield { type: 'idle', token: syntheticToken(0, true), clusterTime: `${this.secondsOf(1)}.0` };
    const started = Date.now();
    const firstIndex = i;
    let exhaustedAt: number | undefined;
    while (!signal.aborted) {
      if (this.opts.count > 0 && i > this.opts.count) {
        // The stream has ended, but its cluster time goes on (as a real primary's no-op writer
        // moves it): batches still open are cut once BATCH_TIMEOUT_MS of it has passed.
        exhaustedAt ??= Date.now();
        const seconds = this.secondsOf(this.opts.count) + Math.floor((Date.now() - exhaustedAt) / 1000);
        yield { type: 'idle', token: syntheticToken(i - 1, true), clusterTime: `${seconds}.${this.opts.eventsPerClusterSecond + 1}` };
        await pause(this.opts.idleIntervalMs, signal);
        continue;
      }
      if (this.opts.rate > 0) {
        const due = started + ((i - firstIndex) * 1000) / this.opts.rate;
        const wait = due - Date.now();
        if (wait > this.opts.idleIntervalMs) {
          // Nothing before event i: the stream's time is (just before) event i's.
          yield { type: 'idle', token: syntheticToken(i - 1, true), clusterTime: `${this.secondsOf(i)}.0` };
          await pause(this.opts.idleIntervalMs, signal);
          continue;
        }
        if (wait > 0) await pause(wait, signal);
      }
      yield { type: 'change', change: this.change(i), token: syntheticToken(i) };
      i++;
    }
  }
}
