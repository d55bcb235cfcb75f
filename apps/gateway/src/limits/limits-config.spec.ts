import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { parseConfig, secretValues } from '@runnel/config';
import { Registry } from '@runnel/metrics';
import { createLogger } from '@runnel/telemetry';
import { RedisServer } from '@runnel/testing';
import { LimitMetrics } from './limit-metrics';
import { createCallerLimiter, LimitsConfig } from './limits-config';
import { MemoryCallerLimiter } from './memory-caller-limiter';
import { RedisCallerLimiter } from './redis-caller-limiter';

const logger = createLogger({ service: 'gateway', level: 'silent' });

describe('LimitsConfig', () => {
  it('defaults to no limits and no Redis', () => {
    expect(parseConfig(LimitsConfig, {})).toEqual({ GATEWAY_REDIS_URL: undefined, GATEWAY_RATE_LIMIT: 0, GATEWAY_CALLER_CONCURRENCY: 0 });
  });

  it('keeps the Redis URL secret: it may carry a password', () => {
    const c = parseConfig(LimitsConfig, { GATEWAY_REDIS_URL: 'redis://:hunter2-pw@redis.internal:6379/2', GATEWAY_RATE_LIMIT: '600', GATEWAY_CALLER_CONCURRENCY: '4' });
    expect(c.GATEWAY_REDIS_URL?.reveal()).toBe('redis://:hunter2-pw@redis.internal:6379/2');
    expect([inspect(c), JSON.stringify(c), String(c.GATEWAY_REDIS_URL)].join(' ')).not.toContain('hunter2');
    // And the logger scrubs it from errors that echo it.
    expect(secretValues(c)).toEqual(['redis://:hunter2-pw@redis.internal:6379/2']);
    expect(c).toMatchObject({ GATEWAY_RATE_LIMIT: 600, GATEWAY_CALLER_CONCURRENCY: 4 });
  });

  it('refuses a non-Redis URL and negative limits, naming the variables but not the values', () => {
    let message = '';
    try {
      parseConfig(LimitsConfig, { GATEWAY_REDIS_URL: 'http://:hunter2-pw@host', GATEWAY_RATE_LIMIT: '-1', GATEWAY_CALLER_CONCURRENCY: 'many' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('GATEWAY_REDIS_URL: must be an absolute URL such as redis://host:port');
    expect(message).toContain('GATEWAY_RATE_LIMIT: must be at least 0');
    expect(message).toContain('GATEWAY_CALLER_CONCURRENCY: must be a whole number');
    expect(message).not.toContain('hunter2');
  });
});

describe('createCallerLimiter', () => {
  it('counts in memory without GATEWAY_REDIS_URL, in Redis with it', async () => {
    const metrics = new LimitMetrics(new Registry());
    const memory = createCallerLimiter(parseConfig(LimitsConfig, {}), logger, metrics);
    expect(memory).toBeInstanceOf(MemoryCallerLimiter);
    await memory.close();
    const server = await RedisServer.start({ durable: false });
    try {
      const redis = createCallerLimiter(parseConfig(LimitsConfig, { GATEWAY_REDIS_URL: server.url }), logger, metrics, { prefix: `runnel:gateway:limits:t-${randomUUID()}:` });
      expect(redis).toBeInstanceOf(RedisCallerLimiter);
      expect(await redis.takeRequest('k', { requestsPerMinute: 1 })).toMatchObject({ allowed: true, remaining: 0 });
      expect(await redis.takeRequest('k', { requestsPerMinute: 1 })).toMatchObject({ allowed: false });
      await redis.close();
    } finally {
      await server.stop();
    }
  });
});
