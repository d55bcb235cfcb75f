import { type RedisClient, RedisScripts } from '@runnel/redis-scripts';
import acquireLease from './acquire-lease-3.lua';
import advanceIdle from './advance-idle-6.lua';
import completeBatch from './complete-batch-3.lua';
import cutBatch from './cut-batch-5.lua';
import openBatch from './open-batch-5.lua';
import releaseLease from './release-lease-1.lua';
import renewLease from './renew-lease-1.lua';
import startGeneration from './start-generation-6.lua';

/**
 * The checkpoint and lease scripts, one file each under commands/, named `<name>-<numKeys>.lua`
 * (BullMQ's layout; RedisScripts reads the number of keys from that name).
 */
const SCRIPTS = new RedisScripts({
  runnelAcquireLease: [acquireLease, 'acquire-lease-3'],
  runnelRenewLease: [renewLease, 'renew-lease-1'],
  runnelReleaseLease: [releaseLease, 'release-lease-1'],
  runnelOpenBatch: [openBatch, 'open-batch-5'],
  runnelCutBatch: [cutBatch, 'cut-batch-5'],
  runnelAdvanceIdle: [advanceIdle, 'advance-idle-6'],
  runnelStartGeneration: [startGeneration, 'start-generation-6'],
  runnelCompleteBatch: [completeBatch, 'complete-batch-3'],
});

export type CommandName = typeof SCRIPTS extends RedisScripts<infer N> ? N : never;

/** Runs one of the scripts: keys first (as many as its name says), then arguments. */
export function runCommand(redis: RedisClient, name: CommandName, keys: string[], args: (string | number)[]): Promise<unknown> {
  return SCRIPTS.run(redis, name, keys, args);
}
