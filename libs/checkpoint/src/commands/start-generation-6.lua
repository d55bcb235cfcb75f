--[[
  Starts a new generation of a stream: its seqs begin again at 1 under a generation number that no
  earlier generation had, so object keys and job ids never collide with the old ones. Drops the old
  generation's checkpoint and batch records.

  Input:
    KEYS[1] fence counter key
    KEYS[2] term key
    KEYS[3] stream key (HASH generation, started_at, reason; no TTL: it outlives the checkpoint,
            which is how an expired checkpoint is told from a stream never read)
    KEYS[4] pending ZSET
    KEYS[5] checkpoint HASH
    KEYS[6] meta HASH
    ARGV[1] fence
    ARGV[2] writes so far in this term
    ARGV[3] the generation the reader saw ('' for none): refused if the stream moved on meanwhile
    ARGV[4] proposed generation (seconds since the epoch; raised above the current one)
    ARGV[5] reason
    ARGV[6] now ms
    ARGV[7] ttl ms

  Output:
    the new generation; or FENCED, STATE_LOST, GENERATION.
]]
local f = tonumber(redis.call('GET', KEYS[1]) or '0')
if f > tonumber(ARGV[1]) then return redis.error_reply('FENCED') end
if f < tonumber(ARGV[1]) or redis.call('GET', KEYS[2]) ~= ARGV[1] .. ':' .. ARGV[2] then return redis.error_reply('STATE_LOST') end
local current = redis.call('HGET', KEYS[3], 'generation')
if (current or '') ~= ARGV[3] then return redis.error_reply('GENERATION') end
redis.call('SET', KEYS[2], ARGV[1] .. ':' .. (tonumber(ARGV[2]) + 1))
local gen = tonumber(ARGV[4])
if current and tonumber(current) >= gen then gen = tonumber(current) + 1 end
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
redis.call('HSET', KEYS[3], 'generation', gen, 'started_at', ARGV[6], 'reason', ARGV[5])
-- The checkpoint exists from the start (no token yet: "from now"), so a crash before the first
-- idle token is not mistaken for an expired checkpoint.
redis.call('HSET', KEYS[5], 'generation', gen, 'seq', 0, 'token', '', 'updated_at', ARGV[6])
redis.call('PEXPIRE', KEYS[5], ARGV[7])
return gen
