--[[
  Extends this holder's lease.

  Input:
    KEYS[1] lease holder key
    ARGV[1] holder id
    ARGV[2] ttl ms

  Output:
    1 when renewed, 0 when the lease is not (or no longer) this holder's.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
