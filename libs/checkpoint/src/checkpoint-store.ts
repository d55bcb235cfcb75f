import type { Cluster, Redis } from 'ioredis';
import { checkpointKeys, leaseKeys } from './checkpoint-keys';
import { FencedError } from './fenced-error';

export type ResumeToken = Record<string, unknown>;

/** Where a batch is in its life. Records live until the checkpoint passes their last event. */
export type BatchState = 'open' | 'cut' | 'done';

/**
 * One batch of one collection. With a database- or deployment-scope stream, collections interleave,
 * so a batch's seq range [seqStart, seqEnd] holds only its own collection's events.
 */
export interface BatchRecord {
  id: string;
  collection: string;
  seqStart: number;
  /** The stream's token just before this batch's first event: the checkpoint while this batch is not stored. */
  tokenBefore: ResumeToken;
  clusterTimeBefore?: string;
  state: BatchState;
  seqEnd?: number;
  /** Token of the batch's last event. */
  token?: ResumeToken;
  clusterTime?: string;
}

export interface Checkpoint {
  token: ResumeToken;
  /** Every event with seq ≤ this is in S3. */
  seq: number;
  clusterTime?: string;
  updatedAt: number;
}

const FENCE_CHECK = `
if ARGV[1] ~= '' then
  local current = redis.call('GET', KEYS[3])
  if current and tonumber(current) > tonumber(ARGV[1]) then return redis.error_reply('FENCED') end
end`;

// KEYS: pending, meta, fence. ARGV: fence, id, seqStart, record json.
const OPEN = `${FENCE_CHECK}
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
return 1`;

// KEYS: pending, meta, fence. ARGV: fence, id, seqEnd, token json, clusterTime.
const CUT = `${FENCE_CHECK}
local raw = redis.call('HGET', KEYS[2], ARGV[2])
if not raw then return redis.error_reply('UNKNOWN_BATCH') end
local r = cjson.decode(raw)
if r.state == 'open' then
  r.state = 'cut'
  r.seqEnd = tonumber(ARGV[3])
  r.token = cjson.decode(ARGV[4])
  if ARGV[5] ~= '' then r.clusterTime = ARGV[5] end
  redis.call('HSET', KEYS[2], ARGV[2], cjson.encode(r))
end
return 1`;

// KEYS: checkpoint, pending, meta. ARGV: id, ttl ms, now ms.
// The checkpoint is the largest s such that every event ≤ s is stored: just before the first batch
// (by seqStart) not yet done, or the highest stored event when every batch is done. Records whose
// events are all ≤ s are dropped; done records above s stay so a replay knows to skip their events.
const COMPLETE = `
local raw = redis.call('HGET', KEYS[3], ARGV[1])
if raw then
  local r = cjson.decode(raw)
  if r.state == 'cut' then
    r.state = 'done'
    redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(r))
    local hi = tonumber(redis.call('HGET', KEYS[1], 'hi_seq') or '-1')
    if r.seqEnd > hi then
      redis.call('HSET', KEYS[1], 'hi_seq', r.seqEnd, 'hi_token', cjson.encode(r.token), 'hi_cluster_time', r.clusterTime or '')
    end
  end
end
local cur = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
local s, token, ct = nil, nil, nil
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, id in ipairs(ids) do
  local r = cjson.decode(redis.call('HGET', KEYS[3], id))
  if r.state ~= 'done' then
    s, token, ct = r.seqStart - 1, cjson.encode(r.tokenBefore), r.clusterTimeBefore or ''
    break
  end
end
if s == nil and redis.call('HEXISTS', KEYS[1], 'hi_seq') == 1 then
  s = tonumber(redis.call('HGET', KEYS[1], 'hi_seq'))
  token = redis.call('HGET', KEYS[1], 'hi_token')
  ct = redis.call('HGET', KEYS[1], 'hi_cluster_time')
end
if s ~= nil and s > cur then
  redis.call('HSET', KEYS[1], 'seq', s, 'token', token, 'cluster_time', ct, 'updated_at', ARGV[3])
  cur = s
end
for _, id in ipairs(ids) do
  local r = cjson.decode(redis.call('HGET', KEYS[3], id))
  if r.state == 'done' and r.seqEnd <= cur then
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
  end
end
for i = 1, 3 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
if cur < 0 then return nil end
return cur`;

// KEYS: checkpoint, pending, fence. ARGV: fence, nextSeq, token json, clusterTime, ttl, now.
// With no batch open, cut or awaiting its neighbours, a post-batch token is a safe checkpoint.
const IDLE = `${FENCE_CHECK}
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
local s = tonumber(ARGV[2]) - 1
local cur = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
if s < cur then return 0 end
redis.call('HSET', KEYS[1], 'seq', s, 'token', ARGV[3], 'cluster_time', ARGV[4], 'updated_at', ARGV[6], 'hi_seq', s, 'hi_token', ARGV[3], 'hi_cluster_time', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

export interface CheckpointStoreOptions {
  prefix: string;
  /** CHECKPOINT_TTL: state untouched this long expires (a stream gone for good). */
  ttlMs: number;
}

/**
 * Resume state per stream in Redis, and the watermark rule: the stored resume token only ever
 * advances to just before the earliest event not yet in S3, however out of order parallel writers
 * and uploaders finish.
 *
 * The reader `open`s a batch at its first event (so buffered events hold the checkpoint back too)
 * and `cut`s it before handing it on; the uploader `complete`s it once the object is stored. The
 * records double as the log of cut points: a restarted reader replays from the checkpoint and knows,
 * for every replayed event, whether its batch is already stored (skip), handed on (rebuild the same
 * batch, same id) or was never handed on (open: re-opened by the replay at the same first event,
 * then cut afresh).
 */
export class CheckpointStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly opts: CheckpointStoreOptions,
  ) {}

  /** Ids derive from the data: the same batch gets the same id on every replay. */
  static batchId(collection: string, seqStart: number): string {
    return `${collection}@${seqStart}`;
  }

  async load(stream: string): Promise<Checkpoint | undefined> {
    const h = await this.redis.hgetall(checkpointKeys(this.opts.prefix, stream).checkpoint);
    if (!h.token) return undefined;
    return { token: JSON.parse(h.token), seq: Number(h.seq), clusterTime: h.cluster_time || undefined, updatedAt: Number(h.updated_at) };
  }

  /** Records a batch's first event. `fence` is the reader's lease token (FencedError if stale). */
  async open(
    stream: string,
    batch: { collection: string; seqStart: number; tokenBefore: ResumeToken; clusterTimeBefore?: string },
    fence?: number,
  ): Promise<string> {
    const id = CheckpointStore.batchId(batch.collection, batch.seqStart);
    const record: BatchRecord = { id, ...batch, state: 'open' };
    await this.#eval(stream, OPEN, ['pending', 'meta', 'fence'], [fence ?? '', id, batch.seqStart, JSON.stringify(record)]);
    return id;
  }

  /** Closes a batch before it is handed on. Idempotent. */
  async cut(stream: string, id: string, end: { seqEnd: number; token: ResumeToken; clusterTime?: string }, fence?: number): Promise<void> {
    await this.#eval(stream, CUT, ['pending', 'meta', 'fence'], [fence ?? '', id, end.seqEnd, JSON.stringify(end.token), end.clusterTime ?? '']);
  }

  /** Marks a batch stored in S3 and moves the checkpoint as far as is safe; returns its seq. Idempotent. */
  async complete(stream: string, id: string): Promise<number | undefined> {
    const seq = (await this.#eval(stream, COMPLETE, ['checkpoint', 'pending', 'meta'], [id, this.opts.ttlMs, Date.now()])) as number | null;
    return seq === null ? undefined : Number(seq);
  }

  /**
   * Offers a post-batch resume token from an idle stream. Taken only when no batch is open or
   * waiting; returns whether the checkpoint moved to it.
   */
  async advanceIdle(stream: string, nextSeq: number, token: ResumeToken, clusterTime?: string, fence?: number): Promise<boolean> {
    const r = await this.#eval(stream, IDLE, ['checkpoint', 'pending', 'fence'], [fence ?? '', nextSeq, JSON.stringify(token), clusterTime ?? '', this.opts.ttlMs, Date.now()]);
    return r === 1;
  }

  /** Every batch the checkpoint has not yet passed, in stream order. */
  async records(stream: string): Promise<BatchRecord[]> {
    const k = checkpointKeys(this.opts.prefix, stream);
    const ids = await this.redis.zrange(k.pending, '0', '-1');
    if (ids.length === 0) return [];
    const raws = await this.redis.hmget(k.meta, ...ids);
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as BatchRecord);
  }

  /** Forgets a stream's state entirely (ON_HISTORY_LOST=latest, or an operator reset). */
  async reset(stream: string): Promise<void> {
    const k = checkpointKeys(this.opts.prefix, stream);
    await this.redis.del(k.checkpoint, k.pending, k.meta);
  }

  async #eval(stream: string, script: string, keyNames: ('checkpoint' | 'pending' | 'meta' | 'fence')[], args: (string | number)[]): Promise<unknown> {
    const k = { ...checkpointKeys(this.opts.prefix, stream), fence: leaseKeys(this.opts.prefix, stream).fence };
    try {
      return await this.redis.eval(script, keyNames.length, ...keyNames.map((n) => k[n]), ...args);
    } catch (err) {
      if ((err as Error).message.includes('FENCED')) throw new FencedError(stream);
      throw err;
    }
  }
}
