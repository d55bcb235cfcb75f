import type { Collection, Document, MongoClient } from 'mongodb';
import type { ResumeToken } from '@runnel/checkpoint';
import type { Logger } from '@runnel/telemetry';
import type { ChangeSource, FreshStart, ReadOptions, ResumePoint, SourceChange, SourceItem } from '../sources/change-source';
import type { MongoChangeSource } from '../sources/mongodb-source';
import { timestampOf, tokenClusterTime } from '../sources/resume-token-time';
import { splitNamespace } from './namespace';
import { readChunkAfter, serverClusterTime } from './collection-chunks';
import { IncrementalSnapshot, type IncrementalSnapshotOptions, streamTokenOf } from './incremental-snapshot';
import { documentKeyOf } from './document-key';
import { type SnapshotChunks, type SnapshotPlan, type StoredChunk } from './snapshot-chunks';
import { rowToken, type SnapshotPosition, snapshotPositionOf, snapshotToken } from './snapshot-position';
import type { SnapshotProgress } from './snapshot-progress';

/** SNAPSHOT_MODE. */
export type SnapshotMode = 'initial' | 'never' | 'when_needed' | 'initial_only';

/** The change events' operation for a snapshot row: a document as it was when its chunk was read. */
export const SNAPSHOT_OPERATION = 'snapshot';

/** Databases a deployment-wide snapshot leaves out, as a deployment-wide change stream does. */
const SYSTEM_DATABASES = new Set(['admin', 'local', 'config']);

export interface SnapshotSourceOptions {
  /** The change stream the snapshot hands over to: its scope says what to read, its client how. */
  inner: MongoChangeSource;
  mode: SnapshotMode;
  /** SNAPSHOT_CHUNK_SIZE: rows per chunk (one find each). */
  chunkSize: number;
  /** SNAPSHOT_PARALLELISM: chunk reads in flight at once (the next chunk of this collection, first chunks of the next ones). */
  parallelism: number;
  chunks: SnapshotChunks;
  progress: SnapshotProgress;
  logger: Logger;
  /** The stream's checkpoint token now: stored chunks it has passed are deleted (Redis holds only what a replay may need). */
  checkpoint?: () => Promise<ResumeToken | undefined>;
  /** On-demand re-snapshots while streaming (their requests, drop sets); unset: none. */
  incremental?: Omit<IncrementalSnapshotOptions, 'stream' | 'chunks' | 'chunkSize' | 'progress' | 'logger' | 'watches' | 'checkpoint'>;
}

/** Whether SNAPSHOT_MODE snapshots a read that starts from nothing for `why`. */
export function snapshotsOn(mode: SnapshotMode, why: FreshStart | undefined): boolean {
  if (!why || mode === 'never') return false;
  return mode === 'when_needed' || why === 'new stream';
}

/**
 * The stream with a snapshot in front: the documents the watched collections already hold, as
 * events of the stream (`operation: "snapshot"`), then the change stream from the position P taken
 * before the first document was read, so nothing changed during the snapshot is missed (its
 * events come after the rows, and the lake's seq order says which is newer).
 *
 * The snapshot's progress is the stream's position: each row's token carries P and where the row
 * is (snapshot-position.ts), so the ordinary checkpoint — moved only once rows are in S3, fenced
 * like every reader write — is also where a restarted snapshot goes on, chunk by chunk, never from
 * the start. A replay must give the rows after the checkpoint the same seqs as before, so every
 * chunk is stored before its rows are emitted (SnapshotChunks) and read back on a replay.
 *
 * Each collection is read in `_id` index order (readChunk: hint + min, so mixed `_id` types work),
 * collections in name order, one after another; reads run ahead up to SNAPSHOT_PARALLELISM.
 */
export class SnapshotSource implements ChangeSource {
  readonly stream: string;
  #incremental: IncrementalSnapshot | undefined;

  constructor(private readonly o: SnapshotSourceOptions) {
    this.stream = o.inner.stream;
  }

  async *read(from: ResumePoint | undefined, signal: AbortSignal, options?: ReadOptions): AsyncIterable<SourceItem> {
    let snapshot = snapshotPositionOf(from?.token);
    if (!snapshot) {
      if (from || !snapshotsOn(this.o.mode, options?.fresh)) return yield* this.#stream(from, signal, options);
      const position = await this.#position(signal);
      if (!position) return; // aborted
      snapshot = { position };
      this.o.logger.info({ stream: this.stream, reason: options?.fresh, cluster_time: tokenClusterTime(position) ?? null }, 'snapshot: position taken; reading the collections');
      // Checkpointed before the first row (the reader records an idle position at once): a crash
      // from here on resumes this snapshot at P, never a second snapshot at a later position
      // whose rows would take the seqs the first one's batches already have.
      yield { type: 'idle', token: snapshotToken(snapshot), clusterTime: tokenClusterTime(position) };
    }
    const last = yield* this.#rows(snapshot, signal);
    if (!last) return;
    if (this.o.mode === 'initial_only') {
      this.o.progress.finish('complete');
      this.o.logger.info({ stream: this.stream }, 'snapshot complete; SNAPSHOT_MODE=initial_only: the change stream is not read');
      yield { type: 'snapshot-complete', token: last };
      return;
    }
    this.o.progress.finish('streaming');
    this.o.logger.info({ stream: this.stream, cluster_time: tokenClusterTime(snapshot.position) ?? null }, 'snapshot complete; streaming from its position');
    yield* this.#stream({ token: snapshot.position }, signal, {});
  }

  /** The change stream, with any requested re-snapshot woven in (incremental-snapshot.ts). */
  async *#stream(from: ResumePoint | undefined, signal: AbortSignal, options: ReadOptions | undefined): AsyncIterable<SourceItem> {
    if (!this.o.incremental) return yield* this.o.inner.read(from, signal);
    const inc = new IncrementalSnapshot({
      ...this.o.incremental,
      stream: this.stream,
      chunks: this.o.chunks,
      chunkSize: this.o.chunkSize,
      progress: this.o.progress,
      logger: this.o.logger,
      checkpoint: this.o.checkpoint,
      watches: (ns) => this.#watches(ns),
    });
    this.#incremental = inc;
    const inner = this.o.inner.read(from ? { ...from, token: streamTokenOf(from.token) } : undefined, signal);
    try {
      yield* inc.weave(from?.token, options?.caughtUp ?? false, inner, () => this.o.inner.newClient(), signal);
    } finally {
      if (this.#incremental === inc) this.#incremental = undefined;
    }
  }

  async checkpointed(token: ResumeToken): Promise<void> {
    await this.#incremental?.checkpointed(token);
  }

  #watches(namespace: string): boolean {
    const s = this.o.inner.scope;
    const [db, coll] = splitNamespace(namespace);
    if (!db || !coll || coll.startsWith('system.')) return false;
    if (s.kind === 'collection') return s.database === db && s.collection === coll;
    if (s.kind === 'database') return s.database === db && (s.collections.length === 0 || s.collections.includes(coll));
    return !SYSTEM_DATABASES.has(db);
  }

  /** P: the change stream's own first position ("now, before any event"), as a fresh read reports it. */
  async #position(signal: AbortSignal): Promise<ResumeToken | undefined> {
    const client = this.o.inner.newClient();
    try {
      await client.connect();
      return signal.aborted ? undefined : await this.o.inner.position(client);
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  /** Emits the rows after `from`; once the last collection's last row is out, the position after it; false when aborted. */
  async *#rows(from: SnapshotPosition, signal: AbortSignal): AsyncGenerator<SourceItem, ResumeToken | false> {
    const { chunks, progress, logger } = this.o;
    const P = from.position;
    const client = this.o.inner.newClient();
    const ahead = new ReadAhead(this.o.parallelism);
    try {
      await client.connect();
      const plan = await chunks.plan(P, () => this.#plan(client, P));
      let start = 0;
      if (from.at) {
        start = plan.namespaces.indexOf(from.at.namespace);
        if (start < 0) throw new Error(`snapshot: the checkpoint is in ${from.at.namespace}, which the snapshot's plan does not hold`);
      }
      const done: Record<string, number> = {};
      for (const ns of plan.namespaces.slice(0, start)) done[ns] = (await chunks.doneRows(P, ns)) ?? 0;
      progress.begin(`initial ${plan.clusterTime}`, plan.clusterTime, plan.namespaces, done, from.at?.n ?? 0);
      const clusterTime = timestampOf(plan.clusterTime);
      let n = from.at?.n ?? 0;
      let last = snapshotToken(from);
      /** Chunks emitted by this read, oldest first, until the checkpoint has passed them. */
      const emitted: { namespace: string; after: string | null }[] = [];

      for (let i = start; i < plan.namespaces.length; i++) {
        if (signal.aborted) return false;
        const ns = plan.namespaces[i];
        const [db, coll] = splitNamespace(ns);
        const collection = client.db(db).collection(coll);
        const resumed = i === start ? from.at : undefined;
        let nsRow = resumed?.nsRow ?? 0;
        progress.collection(ns, await collection.estimatedDocumentCount().catch(() => null), nsRow);
        const read = (after: string | null) => () => readStored(collection, after, this.o.chunkSize);
        const fetch = (after: string | null) => ahead.get(`${ns}\u0000${after ?? ''}`, () => chunks.chunk(P, ns, after, read(after)));

        let after = resumed ? resumed.chunkAfter : null;
        let skip = resumed ? resumed.row + 1 : 0;
        if (resumed && !(await chunks.stored(P, ns, after))) {
          // The stored rows are gone (expired, or a Redis that lost its last writes): read on after
          // the checkpointed row. Rows past the checkpoint may then differ from what was handed on
          // before the crash; the log says so, and docs/runbooks.md#snapshot says what to check.
          logger.warn({ stream: this.stream, collection: ns }, 'snapshot: the chunk the checkpoint is in is no longer stored; reading on after the checkpointed row');
          after = resumed.id;
          skip = 0;
        }
        // The next collections' first chunks, read while this one is emitted.
        for (const next of plan.namespaces.slice(i + 1, i + this.o.parallelism)) {
          const [ndb, ncoll] = splitNamespace(next);
          ahead.prefetch(`${next}\u0000`, () => chunks.chunk(P, next, null, () => readStored(client.db(ndb).collection(ncoll), null, this.o.chunkSize)));
        }
        let chunk = await fetch(after)();
        for (;;) {
          await this.#release(P, emitted);
          emitted.push({ namespace: ns, after });
          const lastId = chunk.rows.length ? documentKeyOf(chunk.rows[chunk.rows.length - 1]._id) : undefined;
          const more = !chunk.done && lastId !== undefined;
          // The next chunk is read while this one's rows go out.
          if (more) ahead.prefetch(`${ns}\u0000${lastId}`, () => chunks.chunk(P, ns, lastId, read(lastId)));
          let next: StoredChunk | undefined;
          progress.chunk(ns);
          for (let r = skip; r < chunk.rows.length; r++) {
            if (signal.aborted) return false;
            const row = chunk.rows[r];
            const lastOfChunk = r === chunk.rows.length - 1;
            // Whether this is the collection's last row: known from the next chunk when this one was full.
            if (lastOfChunk && more) next = await fetch(lastId)();
            const endOfRun = lastOfChunk && (chunk.done || next?.rows.length === 0);
            nsRow++;
            n++;
            const token = rowToken(P, { namespace: ns, chunkAfter: after, row: r, nsRow, n }, row._id);
            const change: SourceChange = { _id: token, operationType: SNAPSHOT_OPERATION, ns: { db, coll }, documentKey: { _id: row._id }, fullDocument: row, clusterTime };
            progress.row(ns);
            last = token;
            // The collection's last row closes its batch (no cluster time will: see BatchCutter.cutNamespace).
            yield endOfRun ? { type: 'change', change, token, endOfRun } : { type: 'change', change, token };
          }
          progress.emitted(ns);
          if (!more) break;
          chunk = next ?? (await fetch(lastId)());
          after = lastId;
          skip = 0;
        }
        await chunks.collectionDone(P, ns, nsRow);
        progress.collectionDone(ns);
        logger.info({ stream: this.stream, collection: ns, rows: nsRow }, 'snapshot: collection read');
      }
      return last;
    } catch (err) {
      if (signal.aborted) return false;
      throw err;
    } finally {
      ahead.clear();
      await client.close().catch(() => undefined);
    }
  }

  /**
   * Deletes the stored chunks of `emitted` the checkpoint has passed: every chunk before the one it
   * is in (or all of them, once it is past the snapshot). A replay starts at the checkpoint, so it
   * never needs them; Redis holds about CHANNEL_BUFFER_SIZE rows of chunks, not the collections.
   */
  async #release(position: ResumeToken, emitted: { namespace: string; after: string | null }[]): Promise<void> {
    if (!this.o.checkpoint || emitted.length === 0) return;
    const token = await this.o.checkpoint();
    const at = snapshotPositionOf(token)?.at;
    if (!token || (snapshotPositionOf(token) && !at)) return; // nothing stored yet, or the start token
    const passed = at ? emitted.findIndex((c) => c.namespace === at.namespace && c.after === at.chunkAfter) : emitted.length;
    if (passed <= 0) return;
    await this.o.chunks.forget(position, emitted.splice(0, passed));
  }

  /** The namespaces to read, by scope, in name order (a stored plan keeps this order on replays). */
  async #plan(client: MongoClient, position: ResumeToken): Promise<SnapshotPlan> {
    const clusterTime = tokenClusterTime(position) ?? (await serverClusterTime(client)) ?? '0.0';
    const s = this.o.inner.scope;
    if (s.kind === 'collection') return { namespaces: [`${s.database}.${s.collection}`], clusterTime };
    const collectionsOf = async (db: string) =>
      (await client.db(db).listCollections({ type: 'collection' }, { nameOnly: true }).toArray())
        .map((c) => c.name)
        .filter((name) => !name.startsWith('system.'));
    let namespaces: string[];
    if (s.kind === 'database') {
      const names = s.collections.length ? [...s.collections] : await collectionsOf(s.database);
      namespaces = names.map((c) => `${s.database}.${c}`);
    } else {
      namespaces = [];
      const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
      for (const d of databases) if (!SYSTEM_DATABASES.has(d.name)) namespaces.push(...(await collectionsOf(d.name)).map((c) => `${d.name}.${c}`));
    }
    return { namespaces: namespaces.sort(), clusterTime };
  }
}

async function readStored(collection: Collection, after: string | null, size: number): Promise<StoredChunk> {
  const chunk = await readChunkAfter(collection, after, size);
  return { rows: chunk.rows as Document[], done: chunk.done, raw: chunk.raw };
}

/**
 * Chunk reads started ahead of need, at most `limit` at once (SNAPSHOT_PARALLELISM); each result is
 * taken once. A failed read is forgotten and made again when it is needed.
 */
class ReadAhead {
  readonly #pending = new Map<string, Promise<StoredChunk>>();

  constructor(private readonly limit: number) {}

  prefetch(key: string, read: () => Promise<StoredChunk>): void {
    if (this.#pending.has(key) || this.#pending.size >= this.limit) return;
    const p = read();
    p.catch(() => this.#pending.delete(key));
    this.#pending.set(key, p);
  }

  /** The read for `key`: the one already under way, or a new one. */
  get(key: string, read: () => Promise<StoredChunk>): () => Promise<StoredChunk> {
    return () => {
      const p = this.#pending.get(key);
      this.#pending.delete(key);
      return p ?? read();
    };
  }

  clear(): void {
    this.#pending.clear();
  }
}
