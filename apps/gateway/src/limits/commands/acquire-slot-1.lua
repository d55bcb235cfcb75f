--[[
  Takes one of a caller's concurrency slots, if one is free.

  Input:
    KEYS[1] the caller's slots: a sorted set of slot ids scored by lease expiry (ms, Redis's clock)
    ARGV[1] slot id (unique per request)
    ARGV[2] max slots (> 0)
    ARGV[3] lease ms

  Output:
    { 1, slots in use including this one } when taken,
    { 0, slots in use } when all are taken.

  Expired leases are pruned first: a gateway that died mid-request stops renewing its slots, so they
  free themselves after one lease instead of leaking. The set's own TTL covers the longest lease,
  so an idle caller leaves nothing behind.
]]
local max = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local inUse = redis.call('ZCARD', KEYS[1])
if inUse >= max then
  return { 0, inUse }
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return { 1, inUse + 1 }
