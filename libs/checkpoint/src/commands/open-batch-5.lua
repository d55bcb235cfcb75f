--[[
  Records a batch's first event (the batch is "open": its events are held by the reader).

  Input:
    KEYS[1] fence counter key
    KEYS[2] term key
    KEYS[3] stream key (HASH generation, …)
    KEYS[4] pending ZSET (batch id → seqStart)
    KEYS[5] meta HASH (batch id → record JSON)
    ARGV[1] fence
    ARGV[2] writes so far in this term
    ARGV[3] generation the reader reads
    ARGV[4] batch id
    ARGV[5] seqStart
    ARGV[6] record JSON

  Output:
    1, or an error: FENCED (another reader holds the stream), STATE_LOST (Redis lost writes of
    this term), GENERATION (the stream moved to another generation).
]]
local f = tonumber(redis.call('GET', KEYS[1]) or '0')
if f > tonumber(ARGV[1]) then return redis.error_reply('FENCED') end
if f < tonumber(ARGV[1]) or redis.call('GET', KEYS[2]) ~= ARGV[1] .. ':' .. ARGV[2] then return redis.error_reply('STATE_LOST') end
if (redis.call('HGET', KEYS[3], 'generation') or '1') ~= ARGV[3] then return redis.error_reply('GENERATION') end
redis.call('SET', KEYS[2], ARGV[1] .. ':' .. (tonumber(ARGV[2]) + 1))
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4])
redis.call('HSET', KEYS[5], ARGV[4], ARGV[6])
return 1
