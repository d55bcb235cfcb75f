import { runPipelineChaos } from './pipeline-chaos';

/** The short chaos run (the long one: npm run chaos:pipeline). Asserts outcomes, never timings. */
describe('pipeline chaos (short)', () => {
  it('kill -9 of random services, a Redis restart and an S3 503 window lose and duplicate nothing', async () => {
    const lines: string[] = [];
    const result = await runPipelineChaos({ events: 15_000, durationMs: 15_000, rate: 1200, seed: 7, log: (l) => lines.push(l) });
    expect(result.redisRestarts).toBe(1);
    expect(Object.values(result.kills).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
    expect(result.s3FailedRequests).toBeGreaterThan(0);
    expect(result.report).toMatchObject({ events: 15_000, maxSeq: 15_000, missing: 0, duplicates: 0, badObjects: [] });
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
  }, 240_000);
});
