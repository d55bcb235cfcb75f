import { describeChaos, runPipelineChaos } from './pipeline-chaos';
import { standInChaosSource } from './standin-chaos-source';

/**
 * The short chaos run on the MongoDB stand-in, read through the real driver (the long one:
 * npm run chaos:pipeline -- <events> <seconds> <rate> --source=standin). Asserts outcomes, never timings.
 */
describe('pipeline chaos on the MongoDB stand-in (short)', () => {
  it('kill -9 of random services and readers, a forced 286, a lease takeover, a Redis restart and an S3 503 window: every event once, lake state = stand-in state', async () => {
    const lines: string[] = [];
    const events = 3000;
    const source = standInChaosSource({ events, rate: 120, seed: 11, oversizeEvent: true });
    const result = await runPipelineChaos({ events, durationMs: 20_000, rate: 120, seed: 11, source, log: (l) => lines.push(l) });
    const summary = [...lines, ...describeChaos(result)].join('\n');
    expect({ summary, scenarios: Object.keys(result.scenarios) }).toEqual({ summary, scenarios: ['history-lost', 'lease-takeover'] });
    expect(result.redisRestarts).toBe(1);
    expect(Object.values(result.kills).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(4);
    expect(result.s3FailedRequests).toBeGreaterThan(0);
    const workload = result.sourceCheck.details?.['workload'] as { events: number; oversizeEvents: number; racedUpdates: number; deletes: number };
    expect(workload).toMatchObject({ events, oversizeEvents: 1 });
    expect(workload.racedUpdates).toBeGreaterThan(0);
    expect(workload.deletes).toBeGreaterThan(0);
    expect({ summary, reports: result.reports.length }).toEqual({ summary, reports: 1 });
    expect(result.report).toMatchObject({ stream: 'shop', events, maxSeq: events, missing: 0, duplicates: 0, badObjects: [] });
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
    expect({ summary, stateEqual: result.sourceCheck.ok }).toEqual({ summary, stateEqual: true });
  }, 240_000);
});
