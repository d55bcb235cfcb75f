import { EJSON } from 'bson';
import type { Document, MongoClient } from 'mongodb';
import type { ResnapshotRequest, ResnapshotRequests, ResumeToken } from '@runnel/checkpoint';
import type { Logger } from '@runnel/telemetry';
import { clusterTimeText } from '../change-envelope-mapper';
import type { SourceChange, SourceItem } from '../sources/change-source';
import { laterThan, timestampOf, tokenClusterTime } from '../sources/resume-token-time';
import { splitNamespace } from './namespace';
import { readChunkAfter, serverClusterTime } from './collection-chunks';
import { documentKeyOf } from './document-key';
import type { SnapshotChunks, StoredChunk } from './snapshot-chunks';
import type { SnapshotProgress } from './snapshot-progress';

/** Where an on-demand snapshot stands, carried in every token the stream yields while it runs. */
export interface ResnapshotState {
  id: string;
  namespace: string;
  /** The chunk being read or emitted: canonical EJSON of the `_id` it starts after, null for the first. */
  after: string | null;
  /** Set while the chunk's rows are emitted: the index (in the filtered rows) of the last one out. */
  row?: number;
  /** Rows of this snapshot emitted before this chunk's. */
  nsRow: number;
  /**
   * The snapshot is over, and the stream has not moved since it started (an idle stream repeats
   * its position): without this a reader resuming here would take it for the start and run it again.
   */
  done?: boolean;
}

const FIELD = 'runnel_resnapshot';

export function withResnapshot(token: ResumeToken, state: ResnapshotState | undefined): ResumeToken {
  return state ? { ...token, [FIELD]: state } : token;
}

export function resnapshotStateOf(token: ResumeToken | undefined): ResnapshotState | undefined {
  const s = token?.[FIELD] as ResnapshotState | undefined;
  return s && typeof s === 'object' && typeof s.id === 'string' && typeof s.namespace === 'string' ? s : undefined;
}

/** The change stream's own token: what MongoDB is given to resume from. */
export function streamTokenOf(token: ResumeToken): ResumeToken {
  if (!(FIELD in token)) return token;
  const { [FIELD]: _state, ...rest } = token;
  return rest;
}

/** The cluster time of a request's start position (a positionKey), when its token says it. */
function startTime(key: string): string | undefined {
  try {
    return tokenClusterTime(EJSON.parse(key, { relaxed: false }) as ResumeToken);
  } catch {
    return undefined;
  }
}

/** A position's identity (the started-after key of a request). */
export const positionKey = (token: ResumeToken): string => EJSON.stringify(streamTokenOf(token), { relaxed: false });

/** The SET/SADD half of Redis the windows need. */
export interface DropSets {
  add(key: string, member: string, ttlMs: number): Promise<void>;
  members(key: string): Promise<string[]>;
  forget(keys: string[]): Promise<void>;
}

export function redisDropSets(redis: { sadd(key: string, member: string): Promise<unknown>; pexpire(key: string, ms: number): Promise<unknown>; smembers(key: string): Promise<string[]>; del(...keys: string[]): Promise<unknown> }): DropSets {
  return {
    async forget(keys) {
      if (keys.length) await redis.del(...keys);
    },
    async add(key, member, ttlMs) {
      await redis.sadd(key, member);
      await redis.pexpire(key, ttlMs);
    },
    members: (key) => redis.smembers(key),
  };
}

export interface IncrementalSnapshotOptions {
  stream: string;
  requests: ResnapshotRequests;
  chunks: SnapshotChunks;
  drops: DropSets;
  prefix: string;
  chunkSize: number;
  /** Whether the stream watches `db.coll` (a request for another collection is refused). */
  watches(namespace: string): boolean;
  progress: SnapshotProgress;
  logger: Logger;
  /** The stream's checkpoint token now: chunks (and drop sets) it has passed are deleted. */
  checkpoint?: () => Promise<ResumeToken | undefined>;
}

/** A chunk with its high watermark: every write its read saw is at or before cluster time `high`. */
interface WindowChunk extends StoredChunk {
  high: string;
}

interface Active {
  request: Pick<ResnapshotRequest, 'id' | 'namespace'>;
  after: string | null;
  chunk: WindowChunk;
  /** Rows still to emit, by document key (a change event inside the window removes its key). */
  remaining: Map<string, Document>;
  nsRow: number;
  /** Set while emitting: rows out so far, in the filtered order. */
  emitted?: number;
}

const TTL_MS = 7 * 24 * 3600 * 1000;
/** How often a reader reading events looks for a new request. */
const REQUEST_POLL_MS = 1000;

/**
 * An on-demand re-snapshot of one collection while its change events keep flowing: the DBLog /
 * Debezium incremental snapshot algorithm, with MongoDB cluster times as the watermarks. Each chunk
 * (`_id` order, like the initial snapshot) is read after the stream has reached cluster time `low`,
 * and `high` is the server's operationTime after the read: every write the read saw is at or
 * before `high`. Events of the collection that come while the window is open (cluster time up to
 * `high`) remove their document's row — the event is as new as the read or newer, and it reaches
 * the lake anyway. When the stream passes `high`, the rows left are emitted as `snapshot` rows
 * (cluster time `high`), before anything after the window: no row ever lands after a newer change
 * of its document, and the lake's seq order says which version is latest.
 *
 * Exactly once, like everything the reader emits: a replay must emit the same rows at the same
 * seqs. So the snapshot starts only right after a position the reader has checkpointed (nothing
 * after it handed on), and that position is written to the request before the first chunk is
 * read (a reader resuming exactly there starts it again); each chunk is stored with its high watermark
 * before the window opens; a key dropped inside a window is added to the chunk's drop set before
 * the event that drops it goes on (so a replay from a checkpoint inside the window still knows it);
 * and every token carries the snapshot's state (ResnapshotState), so the checkpoint resumes it.
 */
export class IncrementalSnapshot {
  #active: Active | undefined;
  /** The last snapshot that ended, while the stream is still at the position it started after. */
  #finished: { id: string; namespace: string; key: string } | undefined;
  #client: MongoClient | undefined;
  /** The stream token of the last item yielded (rows are placed after it). */
  #position: ResumeToken | undefined;

  constructor(private readonly o: IncrementalSnapshotOptions) {}

  /**
   * The stream with any requested snapshot woven in. `from`: the resume point (its token may carry
   * a snapshot's state); `caughtUp`: nothing after `from` has been handed on (a request may start
   * right here). `inner` reads the change stream from `from`'s stream token.
   */
  async *weave(from: ResumeToken | undefined, caughtUp: boolean, inner: AsyncIterable<SourceItem>, connect: () => MongoClient, signal: AbortSignal): AsyncGenerator<SourceItem> {
    this.#client = connect();
    this.#position = from ? streamTokenOf(from) : undefined;
    try {
      await this.#client.connect();
      const state = resnapshotStateOf(from);
      if (state?.done) this.#finished = { id: state.id, namespace: state.namespace, key: positionKey(from as ResumeToken) };
      else if (state) {
        await this.#restore(state);
        if (this.#active?.emitted !== undefined) yield* this.#emit(signal);
      } else if (from) {
        const again = await this.o.requests.startedAfter(positionKey(from));
        if (again) await this.#start(again);
        else if (caughtUp) await this.checkpointed(from);
      }
      // Requests started after a change event: a replay from before it passes the same event and
      // starts the snapshot there again. Each is forgotten once the stream is past its cluster time
      // (it cannot come again in this read), so a past re-snapshot costs nothing per event.
      const starts = new Map<string, { request: ResnapshotRequest; time: string | undefined }>();
      for (const r of await this.o.requests.all()) if (r.startedAfter) starts.set(r.startedAfter, { request: r, time: startTime(r.startedAfter) });
      let nextPoll = 0;
      for await (const item of inner) {
        if (signal.aborted) return;
        const a = this.#active;
        if (a && this.#passes(item, a.chunk.high)) yield* this.#emit(signal);
        if (item.type === 'change') await this.#seen(item.change);
        if (item.type !== 'snapshot-complete') this.#position = item.token;
        yield this.#tagged(item);
        if (this.#active || item.type !== 'change') continue;
        let again: ResnapshotRequest | undefined;
        if (starts.size) {
          const t = clusterTimeText(item.change.clusterTime);
          for (const [key, s] of starts) if (s.time !== undefined && laterThan(t, s.time)) starts.delete(key);
          if (starts.size) again = starts.get(positionKey(item.token))?.request;
        }
        if (again) {
          await this.#start(again);
        } else if (Date.now() >= nextPoll) {
          // A busy stream may never be idle with nothing in flight: a request also starts right after
          // a change event (checked at most once a second), that event's position recorded first.
          nextPoll = Date.now() + REQUEST_POLL_MS;
          await this.#take(item.token);
        }
      }
    } finally {
      this.#active = undefined;
      await this.#client?.close().catch(() => undefined);
      this.#client = undefined;
    }
  }

  /**
   * The reader has checkpointed `token` (an item this stream yielded, nothing after it handed on):
   * the oldest pending request, if any, starts right after it.
   */
  async checkpointed(token: ResumeToken): Promise<void> {
    if (this.#active || !this.#client || resnapshotStateOf(token)) return;
    await this.#take(token);
  }

  /** Starts the oldest pending request right after `token`, its position recorded first; the request, or undefined. */
  async #take(token: ResumeToken): Promise<ResnapshotRequest | undefined> {
    const request = await this.o.requests.next();
    if (!request) return undefined;
    if (!this.o.watches(request.namespace)) {
      await this.o.requests.refuse(request, `stream ${this.o.stream} does not watch ${request.namespace}`);
      this.o.logger.error({ stream: this.o.stream, collection: request.namespace, request: request.id }, 're-snapshot refused: the stream does not watch that collection');
      return undefined;
    }
    const started = await this.o.requests.markStarted(request, positionKey(token));
    await this.#start(started);
    return started;
  }

  async #start(request: ResnapshotRequest): Promise<void> {
    this.o.logger.info({ stream: this.o.stream, collection: request.namespace, request: request.id }, 're-snapshot: started; change events keep flowing');
    this.o.progress.begin(request.id, null, [request.namespace], {}, 0);
    this.o.progress.collection(request.namespace, await this.#estimate(request.namespace), 0);
    await this.#open({ id: request.id, namespace: request.namespace }, null, 0);
  }

  async #restore(s: ResnapshotState): Promise<void> {
    this.o.progress.begin(s.id, null, [s.namespace], {}, s.nsRow);
    this.o.progress.collection(s.namespace, await this.#estimate(s.namespace), s.nsRow + (s.row === undefined ? 0 : s.row + 1));
    await this.#open({ id: s.id, namespace: s.namespace }, s.after, s.nsRow);
    const a = this.#active as Active;
    if (s.row !== undefined) a.emitted = s.row + 1;
  }

  /** Chunks of the running snapshot opened by this read, oldest first, until the checkpoint has passed them. */
  #opened: (string | null)[] = [];

  /** Reads (or reads back) the chunk after `after` and opens its window. */
  async #open(request: Active['request'], after: string | null, nsRow: number): Promise<void> {
    const key = { resnapshot: request.id };
    if (this.#active?.request.id !== request.id) this.#opened = [];
    await this.#release(request);
    this.#opened.push(after);
    const chunk = (await this.o.chunks.chunk(key, request.namespace, after, () => this.#read(request.namespace, after))) as WindowChunk;
    const dropped = new Set(await this.o.drops.members(this.#dropKey(request.id, after)));
    const remaining = new Map<string, Document>();
    for (const row of chunk.rows) {
      const k = documentKeyOf(row._id);
      if (!dropped.has(k)) remaining.set(k, row);
    }
    this.#active = { request, after, chunk, remaining, nsRow };
    this.o.progress.chunk(request.namespace);
  }

  /** Deletes the chunks and drop sets of this snapshot that the checkpoint has passed (a replay starts at or after its chunk). */
  async #release(request: Active['request']): Promise<void> {
    if (!this.o.checkpoint || this.#opened.length === 0) return;
    const state = resnapshotStateOf(await this.o.checkpoint());
    if (state?.id !== request.id) return;
    const passed = this.#opened.indexOf(state.after);
    if (passed <= 0) return;
    const gone = this.#opened.splice(0, passed);
    await this.o.chunks.forget({ resnapshot: request.id }, gone.map((after) => ({ namespace: request.namespace, after })));
    await this.o.drops.forget(gone.map((after) => this.#dropKey(request.id, after)));
  }

  /** One chunk between its watermarks. */
  async #read(namespace: string, after: string | null): Promise<WindowChunk> {
    const client = this.#client as MongoClient;
    const [db, coll] = splitNamespace(namespace);
    // The window opens where the stream is now (everything up to it has been yielded already).
    const low = tokenClusterTime(this.#position) ?? '0.0';
    const chunk = await readChunkAfter(client.db(db).collection(coll), after, this.o.chunkSize);
    return { rows: chunk.rows as Document[], done: chunk.done, raw: chunk.raw, high: (await serverClusterTime(client)) ?? low };
  }

  /** A change inside the window for a row of the chunk: the row goes, recorded before the event goes on. */
  async #seen(change: SourceChange): Promise<void> {
    const a = this.#active;
    if (!a || a.emitted !== undefined || !change.documentKey || !('_id' in change.documentKey)) return;
    if (`${change.ns?.db}.${change.ns?.coll}` !== a.request.namespace) return;
    const k = documentKeyOf(change.documentKey['_id']);
    if (!a.remaining.has(k)) return;
    await this.o.drops.add(this.#dropKey(a.request.id, a.after), k, TTL_MS);
    a.remaining.delete(k);
  }

  /** Whether `item` is past the window's high watermark (an idle position at it is: all events up to it are out). */
  #passes(item: SourceItem, high: string): boolean {
    if (item.type === 'invalidate' || item.type === 'snapshot-complete') return true;
    const t = item.type === 'idle' ? (item.clusterTime ?? tokenClusterTime(item.token)) : item.type === 'change' ? clusterTimeText(item.change.clusterTime) : item.clusterTime ? clusterTimeText(item.clusterTime) : undefined;
    if (t === undefined) return false;
    return item.type === 'idle' ? !laterThan(high, t) : laterThan(t, high);
  }

  /** The window closed: its rows out (from where a replay left off), then the next chunk's window, or the end. */
  async *#emit(signal: AbortSignal): AsyncGenerator<SourceItem> {
    const a = this.#active as Active;
    const { namespace, id } = a.request;
    const [db, coll] = splitNamespace(namespace);
    const rows = [...a.remaining.values()];
    const clusterTime = timestampOf(a.chunk.high);
    const position = this.#position ?? {};
    for (let i = a.emitted ?? 0; i < rows.length; i++) {
      if (signal.aborted) return;
      a.emitted = i + 1;
      const token = withResnapshot(position, { id, namespace, after: a.after, row: i, nsRow: a.nsRow });
      const change: SourceChange = { _id: token, operationType: 'snapshot', ns: { db, coll }, documentKey: { _id: rows[i]._id }, fullDocument: rows[i], clusterTime };
      this.o.progress.row(namespace);
      yield { type: 'change', change, token };
    }
    this.o.progress.emitted(namespace);
    const nsRow = a.nsRow + rows.length;
    const last = a.chunk.rows.at(-1);
    if (a.chunk.done || last === undefined) {
      await this.o.requests.markDone(id, positionKey(position));
      this.#active = undefined;
      this.#finished = { id, namespace, key: (await this.o.requests.get(id))?.startedAfter ?? '' };
      this.o.progress.collectionDone(namespace);
      this.o.progress.finish('streaming');
      this.o.logger.info({ stream: this.o.stream, collection: namespace, request: id, rows: nsRow }, 're-snapshot: done');
      return;
    }
    await this.#open(a.request, documentKeyOf(last._id), nsRow);
  }

  #tagged(item: SourceItem): SourceItem {
    if (item.type === 'snapshot-complete') return item;
    const a = this.#active;
    const f = this.#finished;
    if (!a && f && positionKey(item.token) !== f.key) this.#finished = undefined;
    if (!a && !this.#finished) return item;
    const state: ResnapshotState = a ? { id: a.request.id, namespace: a.request.namespace, after: a.after, nsRow: a.nsRow } : { id: f!.id, namespace: f!.namespace, after: null, nsRow: 0, done: true };
    const token = withResnapshot(item.token, state);
    return item.type === 'change' ? { ...item, token } : { ...item, token };
  }

  #dropKey(id: string, after: string | null): string {
    return `${this.o.prefix}:snapshot-drops:{${this.o.stream}}:${id}:${after ?? ''}`;
  }

  async #estimate(namespace: string): Promise<number | null> {
    const [db, coll] = splitNamespace(namespace);
    return (await this.#client?.db(db).collection(coll).estimatedDocumentCount().catch(() => null)) ?? null;
  }
}
