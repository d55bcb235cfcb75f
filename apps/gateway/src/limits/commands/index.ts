import { type RedisClient, RedisScripts } from '@runnel/redis-scripts';
import acquireSlot from './acquire-slot-1.lua';
import renewSlot from './renew-slot-1.lua';
import takeRequest from './take-request-1.lua';

/** The limiter's scripts, one file each, named `<name>-<numKeys>.lua` (RedisScripts reads the number of keys from that name). */
const SCRIPTS = new RedisScripts({
  runnelLimitsTakeRequest: [takeRequest, 'take-request-1'],
  runnelLimitsAcquireSlot: [acquireSlot, 'acquire-slot-1'],
  runnelLimitsRenewSlot: [renewSlot, 'renew-slot-1'],
});

export type LimitsCommand = typeof SCRIPTS extends RedisScripts<infer N> ? N : never;

/** Runs one of the scripts: keys first (as many as its file name says), then arguments. */
export function runLimitsCommand(redis: RedisClient, name: LimitsCommand, keys: string[], args: (string | number)[]): Promise<unknown> {
  return SCRIPTS.run(redis, name, keys, args);
}
