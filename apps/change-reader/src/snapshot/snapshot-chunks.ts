import { createHash } from 'node:crypto';
import { BSON, EJSON } from 'bson';
import { EXACT_BSON } from '../sources/exact-bson-cursors';
import type { Document } from 'mongodb';
import type { ResumeToken } from '@runnel/checkpoint';

/** The key-value half of Redis the snapshot needs: first writer wins, everyone reads the winner. */
export interface FirstWriteStore {
  /** Stores `value` under `key` unless the key holds one already: null when `value` was stored, else what the key holds. */
  keep(key: string, value: Buffer, ttlMs: number): Promise<Buffer | null>;
  get(key: string): Promise<Buffer | null>;
  delete(...keys: string[]): Promise<void>;
}

/** ioredis (or a Cluster): SET NX PX, then GET when another value was there first. */
export function redisFirstWriteStore(redis: { set(...args: unknown[]): Promise<unknown>; getBuffer(key: string): Promise<Buffer | null>; del(...keys: string[]): Promise<unknown> }): FirstWriteStore {
  return {
    async keep(key, value, ttlMs) {
      if ((await redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK') return null;
      return redis.getBuffer(key); // null: expired between the two calls, nobody holds another version
    },
    get: (key) => redis.getBuffer(key),
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
  /** A re-snapshot's high watermark (incremental-snapshot.ts). */
  high?: string;
  /** The rows' BSON as read (when at hand): stored as is instead of encoding the rows again. */
  raw?: Uint8Array[];
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
    if (stored !== null) return JSON.parse(stored.toString()) as SnapshotPlan;
    const plan = await make();
    const kept = await this.store.keep(key, Buffer.from(JSON.stringify(plan)), this.ttlMs);
    return kept ? (JSON.parse(kept.toString()) as SnapshotPlan) : plan;
  }

  /** A collection's row count once all its rows were emitted (for progress after a restart). */
  async collectionDone(position: ResumeToken, namespace: string, rows: number): Promise<void> {
    await this.store.keep(`${this.#base(position)}:done:${hash(namespace)}`, Buffer.from(String(rows)), this.ttlMs);
  }

  async doneRows(position: ResumeToken, namespace: string): Promise<number | undefined> {
    const v = await this.store.get(`${this.#base(position)}:done:${hash(namespace)}`);
    return v === null ? undefined : Number(v.toString());
  }

  chunkKey(position: ResumeToken, namespace: string, after: string | null): string {
    return `${this.#base(position)}:chunk:${hash(`${namespace}\u0000${after ?? ''}`)}`;
  }

  /** The stored chunk, if any. */
  async stored(position: ResumeToken, namespace: string, after: string | null): Promise<StoredChunk | undefined> {
    const stored = await this.store.get(this.chunkKey(position, namespace, after));
    return stored === null ? undefined : decode(stored);
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
    // Stored first: the rows read are the ones everyone will emit (they were decoded from the
    // server's BSON with the same exact-type options decode uses). Else: the first version's.
    const kept = await this.store.keep(this.chunkKey(position, namespace, after), encode(chunk), this.ttlMs);
    return kept ? decode(kept) : chunk;
  }
}

// BSON, each row as its own document (a chunk can exceed 16 MiB; a row cannot), after a JSON header:
// every value comes back as the BSON type it was read as (an Int32 stays an Int32, a double 1.0 a
// Double), so the envelope a replay builds is byte for byte the same. (Canonical EJSON did the same
// at three times the CPU per row: the benchmark's largest single cost in the snapshot reader.)
function encode(c: StoredChunk): Buffer {
  const header = Buffer.from(JSON.stringify({ done: c.done, high: c.high, rows: c.rows.length }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const parts: Uint8Array[] = [length, header];
  if (c.raw && c.raw.length === c.rows.length) parts.push(...c.raw);
  else for (const row of c.rows) parts.push(BSON.serialize(row));
  return Buffer.concat(parts);
}

function decode(b: Buffer): StoredChunk {
  const headerLength = b.readUInt32LE(0);
  const header = JSON.parse(b.subarray(4, 4 + headerLength).toString()) as { done: boolean; high?: string; rows: number };
  const rows: Document[] = [];
  for (let off = 4 + headerLength; off < b.length; ) {
    const size = b.readInt32LE(off);
    rows.push(BSON.deserialize(b.subarray(off, off + size), EXACT_BSON));
    off += size;
  }
  if (rows.length !== header.rows) throw new Error(`stored snapshot chunk is damaged: ${rows.length} rows of ${header.rows}`);
  const chunk: StoredChunk = { rows, done: header.done };
  if (header.high !== undefined) chunk.high = header.high;
  return chunk;
}
