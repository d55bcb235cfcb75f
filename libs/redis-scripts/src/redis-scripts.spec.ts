import { Redis } from 'ioredis';
import { RedisServer } from '@runnel/testing';
import { RedisScripts } from './redis-scripts';

describe('RedisScripts', () => {
  let server: RedisServer;
  let redis: Redis;
  const scripts = new RedisScripts({
    runnelTestEcho: ["return {KEYS[1], ARGV[1]}", 'echo-1'],
    runnelTestSum: ["return tonumber(ARGV[1]) + tonumber(ARGV[2])", 'sum-0'],
  });

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('reads the number of keys from the file name and runs each script by name', async () => {
    expect(scripts.numberOfKeys('runnelTestEcho')).toBe(1);
    expect(scripts.numberOfKeys('runnelTestSum')).toBe(0);
    expect(await scripts.run(redis, 'runnelTestEcho', ['k'], ['v'])).toEqual(['k', 'v']);
    expect(await scripts.run(redis, 'runnelTestSum', [], [2, 3])).toBe(5);
  });

  it('refuses a call with the wrong number of keys before Redis sees it', () => {
    expect(() => scripts.run(redis, 'runnelTestEcho', [], ['v'])).toThrow('runnelTestEcho takes 1 keys, got 0');
  });

  it('survives SCRIPT FLUSH: ioredis loads the script again on NOSCRIPT', async () => {
    await redis.script('FLUSH');
    expect(await scripts.run(redis, 'runnelTestSum', [], [1, 1])).toBe(2);
  });
});
