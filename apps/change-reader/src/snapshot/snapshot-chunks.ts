import { createHash } from 'node:crypto';
import { EJSON } from 'bson';
import type { Document } from 'mongodb';
import type { ResumeToken } from '@runnel/checkpoint';

/** The key-value half of Redis the snapshot needs: first writer wins, everyone reads the winner. */
export interface FirstWriteStore {
  /** Stores `value` under `key` unless the key holds one already; returns what the key holds. */
  keep(key: string, value: string, ttlMs: number): Promise<string>;
  get(key: string): Promise<string | null>;
  delete(...keys: string[]): Promise<void>;
}

/** ioredis (or a Cluster): SET NX PX, then GET when another value was there first. */
export function redisFirstWriteStore(redis: { set(...args: unknown[]): Promise<unknown>; get(key: string): Promise<string | null>; del(...keys: string[]): Promise<unknown> }): FirstWriteStore {
  return {
    async keep(key, value, ttlMs) {
      if ((await redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK') return value;
      const stored = await redis.get(key);
      return stored ?? value; // expired between the two calls: nobody holds another version
    },
    get: (key) => redis.get(key),
    async delete(...keys) {
      if (keys.length) await redis.del(...keys);
    },
  };
}

export interface SnapshotPlan {
  /** `db.coll`, in the order they are read. */
  namespaces: string[];
  /** P's cluster time (`<seconds>.<increment>`): every row's cluster_time. */
  clusterTime: string;
}

/** A chunk as the snapshot emits it: the same rows on every read, once stored. */
export interface StoredChunk {
  rows: Document[];
  /** No document after this chunk in its collection (when it was read). */
  done: boolean;
}

const hash = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

/**
 * Why a snapshot can be replayed row for row: everything it emits is stored before it is emitted,
 * first version wins. The list of collections (its plan) and each chunk's rows, keyed by the
 * snapshot's position P and the chunk's start. A reader that resumes from a checkpoint inside
 * the snapshot reads these back instead of the collection, so the rows after the checkpoint get
 * the same seqs as before the crash, and batches recorded as cut or stored are rebuilt exactly
 * (docs/architecture.md, the snapshot handoff). Without it a document deleted in between would
 * shift every later row's seq by one, and the lake would get a hole and a duplicate.
 *
 * Entries expire after `ttlMs` (default 7 days, like batch bodies).
 */
export class SnapshotChunks {
  constructor(
    private readonly store: FirstWriteStore,
    private readonly prefix: string,
    private readonly stream: string,
    private readonly ttlMs = 7 * 24 * 3600 * 1000,
  ) {}

  #base(position: ResumeToken): string {
    return `${this.prefix}:snapshot:{${this.stream}}:${hash(EJSON.stringify(position, { relaxed: false }))}`;
  }

  /** What this snapshot reads, in order, and the cluster time its rows carry: the first plan stored for P. */
  async plan(position: ResumeToken, make: () => Promise<SnapshotPlan>): Promise<SnapshotPlan> {
    const key = `${this.#base(position)}:plan`;
    const stored = await this.store.get(key);
    if (stored !== null) return JSON.parse(stored) as SnapshotPlan;
    return JSON.parse(await this.store.keep(key, JSON.stringify(await make()), this.ttlMs)) as SnapshotPlan;
  }

  /** A collection's row count once all its rows were emitted (for progress after a restart). */
  async collectionDone(position: ResumeToken, namespace: string, rows: number): Promise<void> {
    await this.store.keep(`${this.#base(position)}:done:${hash(namespace)}`, String(rows), this.ttlMs);
  }

  async doneRows(position: ResumeToken, namespace: string): Promise<number | undefined> {
    const v = await this.store.get(`${this.#base(position)}:done:${hash(namespace)}`);
    return v === null ? undefined : Number(v);
  }

  chunkKey(position: ResumeToken, namespace: string, after: string | null): string {
    return `${this.#base(position)}:chunk:${hash(`${namespace}\u0000${after ?? ''}`)}`;
  }

  /** The stored chunk, if any. */
  async stored(position: ResumeToken, namespace: string, after: string | null): Promise<StoredChunk | undefined> {
    const text = await this.store.get(this.chunkKey(position, namespace, after));
    return text === null ? undefined : decode(text);
  }

  /** Deletes stored chunks the checkpoint has passed (no replay can start inside them any more). */
  async forget(position: ResumeToken, chunks: { namespace: string; after: string | null }[]): Promise<void> {
    await this.store.delete(...chunks.map((c) => this.chunkKey(position, c.namespace, c.after)));
  }

  /** The stored chunk, or `read()`'s, stored first: whichever version the key ends up holding. */
  async chunk(position: ResumeToken, namespace: string, after: string | null, read: () => Promise<StoredChunk>): Promise<StoredChunk> {
    const existing = await this.stored(position, namespace, after);
    if (existing) return existing;
    const chunk = await read();
    return decode(await this.store.keep(this.chunkKey(position, namespace, after), encode(chunk), this.ttlMs));
  }
}

// Canonical EJSON both ways: every value comes back as the BSON type it was read as (an Int32 stays
// an Int32, a double 1.0 a Double), so the envelope a replay builds is byte for byte the same.
const encode = (c: StoredChunk) => EJSON.stringify(c, { relaxed: false }); // with whatever the reader adds (a window's watermarks)
const decode = (text: string): StoredChunk => EJSON.parse(text, { relaxed: false }) as StoredChunk;
