import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** A script's source and its file name, `<name>-<numKeys>` (BullMQ's layout). */
export type ScriptFile = readonly [lua: string, file: string];

/**
 * A set of Lua scripts, one file each named `<name>-<numKeys>.lua`: the number of keys is read from
 * that name and nowhere else. Each is defined once per client (ioredis `defineCommand`: EVALSHA,
 * loading the script again on NOSCRIPT), so Redis parses it once, not on every call.
 */
export class RedisScripts<Name extends string> {
  readonly #defined = new WeakSet<RedisClient>();

  constructor(private readonly scripts: Readonly<Record<Name, ScriptFile>>) {}

  /** The number of keys a script takes, read from its file name. */
  numberOfKeys(name: Name): number {
    const file = this.scripts[name][1];
    return Number(file.slice(file.lastIndexOf('-') + 1));
  }

  /**
   * Runs a script: keys first (as many as its file name says), then arguments.
   * @throws Error when the number of keys given is not the script's: a caller bug, found before Redis sees it.
   */
  run(redis: RedisClient, name: Name, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (!this.#defined.has(redis)) {
      for (const n of Object.keys(this.scripts) as Name[]) redis.defineCommand(n, { numberOfKeys: this.numberOfKeys(n), lua: this.scripts[n][0] });
      this.#defined.add(redis);
    }
    if (keys.length !== this.numberOfKeys(name)) throw new Error(`${name} takes ${this.numberOfKeys(name)} keys, got ${keys.length}`);
    return (redis as unknown as Record<Name, (...a: (string | number)[]) => Promise<unknown>>)[name](...keys, ...args);
  }
}
