--[[
  Offers a post-batch resume token from an idle stream: with no batch open, cut or awaiting its
  neighbours, that token is a safe checkpoint (every event before it is stored).

  Input:
    KEYS[1] fence counter key
    KEYS[2] term key
    KEYS[3] stream key
    KEYS[4] pending ZSET
    KEYS[5] checkpoint HASH
    KEYS[6] meta HASH (its TTL is refreshed with the rest)
    ARGV[1] fence
    ARGV[2] writes so far in this term
    ARGV[3] generation
    ARGV[4] next seq (the checkpoint becomes next seq - 1)
    ARGV[5] token JSON
    ARGV[6] cluster time, or ''
    ARGV[7] ttl ms
    ARGV[8] now ms

  Output:
    1 when the checkpoint moved to the token, 0 when batches still wait; or FENCED, STATE_LOST,
    GENERATION.
]]
local f = tonumber(redis.call('GET', KEYS[1]) or '0')
if f > tonumber(ARGV[1]) then return redis.error_reply('FENCED') end
if f < tonumber(ARGV[1]) or redis.call('GET', KEYS[2]) ~= ARGV[1] .. ':' .. ARGV[2] then return redis.error_reply('STATE_LOST') end
if (redis.call('HGET', KEYS[3], 'generation') or '1') ~= ARGV[3] then return redis.error_reply('GENERATION') end
redis.call('SET', KEYS[2], ARGV[1] .. ':' .. (tonumber(ARGV[2]) + 1))
if redis.call('ZCARD', KEYS[4]) > 0 then return 0 end
local s = tonumber(ARGV[4]) - 1
local cur = tonumber(redis.call('HGET', KEYS[5], 'seq') or '-1')
if s < cur then return 0 end
redis.call('HSET', KEYS[5], 'generation', ARGV[3], 'seq', s, 'token', ARGV[5], 'cluster_time', ARGV[6], 'updated_at', ARGV[8], 'hi_seq', s, 'hi_token', ARGV[5], 'hi_cluster_time', ARGV[6])
redis.call('PEXPIRE', KEYS[5], ARGV[7])
return 1
