// The ambient `*.lua` module type must reach every project that compiles this lib through its path alias (an import cannot carry an ambient declaration).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../lua.d.ts" />
import type { Cluster, Redis } from 'ioredis';
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
 * (BullMQ's layout): the number of keys is read from that name, nowhere else. Each is defined once
 * per client (ioredis `defineCommand`: EVALSHA, loading the script on NOSCRIPT), so Redis parses it
 * once, not on every call.
 */
const SCRIPTS = {
  runnelAcquireLease: [acquireLease, 'acquire-lease-3'],
  runnelRenewLease: [renewLease, 'renew-lease-1'],
  runnelReleaseLease: [releaseLease, 'release-lease-1'],
  runnelOpenBatch: [openBatch, 'open-batch-5'],
  runnelCutBatch: [cutBatch, 'cut-batch-5'],
  runnelAdvanceIdle: [advanceIdle, 'advance-idle-6'],
  runnelStartGeneration: [startGeneration, 'start-generation-6'],
  runnelCompleteBatch: [completeBatch, 'complete-batch-3'],
} as const;

export type CommandName = keyof typeof SCRIPTS;

type Client = Redis | Cluster;
type WithCommands = Client & Record<CommandName, (...args: (string | number)[]) => Promise<unknown>>;

const defined = new WeakSet<Client>();

/** The number of keys a script takes, read from its file name. */
export function numberOfKeys(name: CommandName): number {
  const file = SCRIPTS[name][1];
  return Number(file.slice(file.lastIndexOf('-') + 1));
}

/** Runs one of the scripts: keys first (as many as its name says), then arguments. */
export function runCommand(redis: Client, name: CommandName, keys: string[], args: (string | number)[]): Promise<unknown> {
  if (!defined.has(redis)) {
    for (const n of Object.keys(SCRIPTS) as CommandName[]) redis.defineCommand(n, { numberOfKeys: numberOfKeys(n), lua: SCRIPTS[n][0] });
    defined.add(redis);
  }
  if (keys.length !== numberOfKeys(name)) throw new Error(`${name} takes ${numberOfKeys(name)} keys, got ${keys.length}`);
  return (redis as WithCommands)[name](...keys, ...args);
}
