// The ambient `*.lua` module type is libs/checkpoint's (a second `declare module '*.lua'` in this
// project would clash with it whenever both are compiled together).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../../../../libs/checkpoint/src/lua.d.ts" />
import type { Cluster, Redis } from 'ioredis';
import acquireSlot from './acquire-slot-1.lua';
import renewSlot from './renew-slot-1.lua';
import takeRequest from './take-request-1.lua';

/**
 * The limiter's scripts, one file each, named `<name>-<numKeys>.lua` as libs/checkpoint's are: the
 * number of keys is read from that name only. Defined once per client (ioredis `defineCommand`:
 * EVALSHA, loading the script again on NOSCRIPT), so Redis parses each once.
 */
const SCRIPTS = {
  runnelLimitsTakeRequest: [takeRequest, 'take-request-1'],
  runnelLimitsAcquireSlot: [acquireSlot, 'acquire-slot-1'],
  runnelLimitsRenewSlot: [renewSlot, 'renew-slot-1'],
} as const;

export type LimitsCommand = keyof typeof SCRIPTS;

type Client = Redis | Cluster;
type WithCommands = Client & Record<LimitsCommand, (...args: (string | number)[]) => Promise<unknown>>;

const defined = new WeakSet<Client>();

function numberOfKeys(name: LimitsCommand): number {
  const file = SCRIPTS[name][1];
  return Number(file.slice(file.lastIndexOf('-') + 1));
}

/** Runs one of the scripts: keys first (as many as its file name says), then arguments. */
export function runLimitsCommand(redis: Client, name: LimitsCommand, keys: string[], args: (string | number)[]): Promise<unknown> {
  if (!defined.has(redis)) {
    for (const n of Object.keys(SCRIPTS) as LimitsCommand[]) redis.defineCommand(n, { numberOfKeys: numberOfKeys(n), lua: SCRIPTS[n][0] });
    defined.add(redis);
  }
  if (keys.length !== numberOfKeys(name)) throw new Error(`${name} takes ${numberOfKeys(name)} keys, got ${keys.length}`);
  return (redis as WithCommands)[name](...keys, ...args);
}
