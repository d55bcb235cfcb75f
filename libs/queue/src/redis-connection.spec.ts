import { RedisServer } from '@runnel/testing';
import { checkPrefix } from './queue-names';
import { checkRedisDurability, createRedisConnection } from './redis-connection';

describe('checkRedisDurability', () => {
  it('passes a Redis with AOF and noeviction', async () => {
    const server = await RedisServer.start({ durable: true });
    const redis = createRedisConnection(server.url);
    try {
      expect(await checkRedisDurability(redis)).toEqual({ appendonly: true, maxmemoryPolicy: 'noeviction', problems: [] });
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('names both problems on a Redis without AOF that evicts', async () => {
    const server = await RedisServer.start({ durable: false });
    const redis = createRedisConnection(server.url);
    try {
      const result = await checkRedisDurability(redis);
      expect(result.appendonly).toBe(false);
      expect(result.problems).toEqual([expect.stringMatching(/appendonly is "no"/), expect.stringMatching(/maxmemory-policy is "allkeys-lru"/)]);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});

describe('checkPrefix', () => {
  it('requires a hash tag', () => {
    expect(checkPrefix('{runnel}')).toBeUndefined();
    expect(checkPrefix('runnel:{prod}')).toBeUndefined();
    expect(checkPrefix('runnel')).toMatch(/hash tag/);
    expect(checkPrefix('{}')).toMatch(/hash tag/);
  });
});
