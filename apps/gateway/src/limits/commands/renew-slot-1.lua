--[[
  Extends the lease of a slot its holder still holds.

  Input:
    KEYS[1] the caller's slots (sorted set of slot ids scored by lease expiry, ms, Redis's clock)
    ARGV[1] slot id
    ARGV[2] lease ms

  Output:
    1 when renewed; 0 when the slot had expired and been pruned (the holder stalled past its
    lease). It is then put back: the request is still running, so it counts against the quota,
    even if that briefly puts the caller one over.
]]
local lease = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local held = redis.call('ZADD', KEYS[1], now + lease, ARGV[1]) == 0
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
if held then return 1 end
return 0
