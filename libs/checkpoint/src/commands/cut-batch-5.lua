--[[
  Closes a batch before it is handed on: its last event is recorded, so a replay rebuilds the same
  batch. Idempotent for a batch already cut or done.

  Input:
    KEYS[1] fence counter key
    KEYS[2] term key
    KEYS[3] stream key
    KEYS[4] pending ZSET (unused, keeps the key list of the batch commands alike)
    KEYS[5] meta HASH
    ARGV[1] fence
    ARGV[2] writes so far in this term
    ARGV[3] generation
    ARGV[4] batch id
    ARGV[5] seqEnd
    ARGV[6] token JSON of the last event
    ARGV[7] cluster time of the last event, or ''

  Output:
    1, or an error: FENCED, STATE_LOST, GENERATION, UNKNOWN_BATCH (no open record: Redis lost it).
]]
local f = tonumber(redis.call('GET', KEYS[1]) or '0')
if f > tonumber(ARGV[1]) then return redis.error_reply('FENCED') end
if f < tonumber(ARGV[1]) or redis.call('GET', KEYS[2]) ~= ARGV[1] .. ':' .. ARGV[2] then return redis.error_reply('STATE_LOST') end
if (redis.call('HGET', KEYS[3], 'generation') or '1') ~= ARGV[3] then return redis.error_reply('GENERATION') end
local raw = redis.call('HGET', KEYS[5], ARGV[4])
if not raw then return redis.error_reply('STATE_LOST') end
redis.call('SET', KEYS[2], ARGV[1] .. ':' .. (tonumber(ARGV[2]) + 1))
local r = cjson.decode(raw)
if r.state == 'open' then
  r.state = 'cut'
  r.seqEnd = tonumber(ARGV[5])
  r.token = cjson.decode(ARGV[6])
  if ARGV[7] ~= '' then r.clusterTime = ARGV[7] end
  redis.call('HSET', KEYS[5], ARGV[4], cjson.encode(r))
end
return 1
