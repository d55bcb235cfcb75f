--[[
  Takes a stream's lease, or renews this holder's, and starts a write term.

  Input:
    KEYS[1] lease holder key
    KEYS[2] fence counter key
    KEYS[3] term key ("<fence>:<writes>": the holder's count of checkpoint writes)
    ARGV[1] holder id
    ARGV[2] ttl ms

  Output:
    the fencing token (a new one on every acquisition), or nil when another holder has it.

  The term key starts at "<fence>:0". Every fenced write checks and advances it, so a write that
  Redis lost (a crash before fsync, a failover to a lagging replica) is noticed at the next write.
]]
local fence
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  fence = redis.call('INCR', KEYS[2])
elseif redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  fence = tonumber(redis.call('GET', KEYS[2]) or '0')
  if fence == 0 then fence = redis.call('INCR', KEYS[2]) end
else
  return nil
end
redis.call('SET', KEYS[3], fence .. ':0')
return fence
