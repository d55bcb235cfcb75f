import { randomUUID } from 'node:crypto';

/** The Redis calls the requests need (ioredis, or a Cluster). */
export interface RequestsRedis {
  hset(key: string, field: string, value: string): Promise<unknown>;
  hgetall(key: string): Promise<Record<string, string>>;
  pexpire(key: string, ms: number): Promise<unknown>;
}

/** One on-demand re-snapshot of a collection, as the operator asked for it and as the reader took it up. */
export interface ResnapshotRequest {
  id: string;
  /** `db.coll`. */
  namespace: string;
  requestedAt: string;
  /**
   * Set when a reader started it: the stream position (key of the checkpointed token) right after
   * which its first chunk was read. A reader that resumes from exactly that position starts it
   * there again, so the replay re-emits the same rows at the same seqs.
   */
  startedAfter?: string;
  /** Set when its last chunk was emitted (kept: a replay from `startedAfter` runs it again). */
  doneAt?: string;
  /** Why a reader refused it (a collection the stream does not watch). */
  refused?: string;
}

/** The Redis hash of a stream's re-snapshot requests: `<prefix>:snapshot-requests:{<stream>}`, field = id, value = JSON. */
export function requestsKey(prefix: string, stream: string): string {
  return `${prefix}:snapshot-requests:{${stream}}`;
}

const TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * The on-demand snapshot signal. `npm run snapshot -- <db.coll>` (or an HSET by hand, see
 * docs/runbooks.md#re-snapshot) adds a request; the reader holding the lease takes the oldest one
 * at a position that is its checkpoint (nothing read after it is handed on yet), records that
 * position in the request before reading anything, and marks it done after the last chunk.
 * Requests stay (30 days) so that a replay from the start position runs the same snapshot again.
 */
export class ResnapshotRequests {
  readonly key: string;

  constructor(
    private readonly redis: RequestsRedis,
    prefix: string,
    stream: string,
  ) {
    this.key = requestsKey(prefix, stream);
  }

  /** Adds a request; returns it. */
  async request(namespace: string, now = new Date()): Promise<ResnapshotRequest> {
    const r: ResnapshotRequest = { id: `${now.getTime()}-${randomUUID().slice(0, 8)}`, namespace, requestedAt: now.toISOString() };
    await this.#save(r);
    return r;
  }

  async all(): Promise<ResnapshotRequest[]> {
    const h = await this.redis.hgetall(this.key);
    return Object.values(h)
      .map((v) => JSON.parse(v) as ResnapshotRequest)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The oldest request no reader has started or refused. */
  async next(): Promise<ResnapshotRequest | undefined> {
    return (await this.all()).find((r) => !r.startedAfter && !r.refused);
  }

  /** The request started right after position `positionKey`, if any. */
  async startedAfter(positionKey: string): Promise<ResnapshotRequest | undefined> {
    return (await this.all()).find((r) => r.startedAfter === positionKey);
  }

  async get(id: string): Promise<ResnapshotRequest | undefined> {
    return (await this.all()).find((r) => r.id === id);
  }

  async markStarted(r: ResnapshotRequest, positionKey: string): Promise<ResnapshotRequest> {
    const started = { ...r, startedAfter: positionKey };
    await this.#save(started);
    return started;
  }

  async markDone(id: string, positionKey: string): Promise<void> {
    const r = await this.get(id);
    if (r && !r.doneAt) await this.#save({ ...r, doneAt: positionKey });
  }

  async refuse(r: ResnapshotRequest, reason: string): Promise<void> {
    await this.#save({ ...r, refused: reason });
  }

  async #save(r: ResnapshotRequest): Promise<void> {
    await this.redis.hset(this.key, r.id, JSON.stringify(r));
    await this.redis.pexpire(this.key, TTL_MS);
  }
}
