--[[
  Gives the lease up at once, so a standby need not wait for the TTL.

  Input:
    KEYS[1] lease holder key
    ARGV[1] holder id

  Output:
    1 when released, 0 when it was not this holder's.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
