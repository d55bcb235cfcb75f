--[[
  Takes one request from a caller's rate budget: GCRA (the generic cell rate algorithm) with a
  burst of the whole limit, so a caller may spend its `limit` requests at once and then earns one
  back every window/limit.

  Input:
    KEYS[1] the caller's theoretical arrival time (TAT): µs since the epoch, Redis's clock
    ARGV[1] emission interval µs (a whole number: window / limit, rounded down)
    ARGV[2] limit: requests per window (> 0)

  Output:
    { allowed (1|0), remaining, reset ms (until the budget is whole again), retry-after ms (0 when allowed) }

  The clock is Redis's (TIME), never a replica's: gateways with skewed clocks share one timeline.
  Redis 5+ replicates a script's effects, so reading TIME before a write is allowed. Whole
  microseconds keep the arithmetic exact in Lua's doubles (now ~ 1.8e15 < 2^53): with fractional
  intervals, rounding let the limit-th request of a burst in or out by chance.
]]
local interval = tonumber(ARGV[1])
local burst = interval * tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local newTat = tat + interval
-- The earliest moment this request fits: the budget holds `burst` µs of arrivals at most.
local allowAt = newTat - burst
if now < allowAt then
  return { 0, 0, math.ceil((tat - now) / 1000), math.ceil((allowAt - now) / 1000) }
end
local ttlMs = math.ceil((newTat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', ttlMs)
return { 1, math.floor((burst - (newTat - now)) / interval), ttlMs, 0 }
