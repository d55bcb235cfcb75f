--[[
  Marks a batch stored in S3 and moves the checkpoint as far as is safe. Called by the uploader,
  unfenced (see docs/architecture.md, "Fencing"): it states a fact about S3 that holds whoever reads
  the stream, it is idempotent and order-free, and a batch id names its generation, so a completion
  from an older generation or term finds no record and changes nothing.

  The checkpoint is the largest s such that every event <= s is stored: just before the first batch
  (by seqStart) not yet done, or the highest stored event when every batch is done. Records whose
  events are all <= s are dropped; done records above s stay so a replay knows to skip their events.

  Input:
    KEYS[1] checkpoint HASH
    KEYS[2] pending ZSET
    KEYS[3] meta HASH
    ARGV[1] batch id
    ARGV[2] ttl ms
    ARGV[3] now ms

  Output:
    the checkpoint seq, or nil when the stream has none.

  It never creates the checkpoint: one that is gone (expired, deleted) stays gone, so the reader
  sees a missing checkpoint (ON_HISTORY_LOST decides) instead of one without a generation.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
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
return cur
