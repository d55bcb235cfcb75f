import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child, parseMetrics, percentile } from '@runnel/testing';
import { allPass, evaluateHttp, evaluatePipeline, type HttpMeasurement, summariseLatencies, summariseRss } from './criteria';
import { startLocalGateway } from './gateway-under-test';
import type { HttpReport } from './http-load';
import { completeBody } from './http-load';
import { parseArgs } from './run';
import { mixSequence, parseDuration, SCENARIOS } from './scenarios';

const good: HttpMeasurement = {
  attempts: 10_000,
  errors: 9,
  targetRate: 100,
  achievedRate: 99,
  latency: { count: 9991, p50: 3, p95: 150, p99: 400, max: 900 },
};
const byName = (m: HttpMeasurement) => Object.fromEntries(evaluateHttp(m).map((c) => [c.name, c.pass]));

describe('HTTP pass criteria', () => {
  it('pass just inside every limit', () => {
    expect(evaluateHttp(good).map((c) => c.pass)).toEqual([true, true, true, true]);
    expect(allPass(evaluateHttp(good))).toBe(true);
  });

  it('an error rate of 0.1 % or more fails (the limit is strict)', () => {
    expect(byName({ ...good, errors: 10 })['error rate']).toBe(false);
    expect(allPass(evaluateHttp({ ...good, errors: 10 }))).toBe(false);
  });

  it('p95 ≥ 200 ms or p99 ≥ 500 ms fails', () => {
    expect(byName({ ...good, latency: { ...good.latency, p95: 200 } })).toMatchObject({ 'p95 latency': false, 'p99 latency': true });
    expect(byName({ ...good, latency: { ...good.latency, p99: 500 } })).toMatchObject({ 'p95 latency': true, 'p99 latency': false });
  });

  it('a run that did not reach 95 % of its rate fails', () => {
    expect(byName({ ...good, achievedRate: 94.9 })['rate achieved']).toBe(false);
  });

  it('no requests or no successful response is a failure, not a vacuous pass', () => {
    expect(byName({ ...good, attempts: 0, errors: 0 })['error rate']).toBe(false);
    expect(byName({ ...good, latency: { count: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN } })).toMatchObject({ 'p95 latency': false, 'p99 latency': false });
  });

  it('RSS growth is enforced only with a bound, and an unmeasured RSS fails it', () => {
    expect(evaluateHttp(good).some((c) => c.name.startsWith('RSS'))).toBe(false);
    const rss = summariseRss([100, 104, 110, 120], 1)!;
    expect(byName({ ...good, rss, rssGrowthBoundMiB: 32 })['RSS growth (no leak)']).toBe(true);
    expect(byName({ ...good, rss: summariseRss([100, 140], 1), rssGrowthBoundMiB: 32 })['RSS growth (no leak)']).toBe(false);
    expect(byName({ ...good, rss: undefined, rssGrowthBoundMiB: 32 })['RSS growth (no leak)']).toBe(false);
  });
});

describe('measurement helpers', () => {
  it('nearest-rank percentiles', () => {
    const v = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 95), percentile(v, 99), percentile(v, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([], 95)).toBeNaN();
    expect(summariseLatencies([5, 1, 3])).toMatchObject({ count: 3, p50: 3, max: 5 });
  });

  it('RSS summary: growth from the first to the last sample and the slope per minute', () => {
    const s = summariseRss([100, 101, 102, 103], 1)!;
    expect(s).toMatchObject({ startMiB: 100, endMiB: 103, peakMiB: 103, growthMiB: 3 });
    expect(s.slopeMiBPerMin).toBeCloseTo(60);
    expect(summariseRss([], 1)).toBeUndefined();
  });

  it('a 2xx body counts only when it is a full answer', () => {
    expect(completeBody('json', '{"output":{"a":1},"metadata":{}}')).toBe(true);
    expect(completeBody('json', '{"detail":"x"}')).toBe(false);
    expect(completeBody('sse', 'event: data\ndata: "a"\n\nevent: end\n\n')).toBe(true);
    expect(completeBody('sse', 'event: data\ndata: "a"\n\n')).toBe(false);
    expect(completeBody('sse', 'event: error\ndata: {}\n\nevent: end\n\n')).toBe(false);
  });

  it('parses Prometheus text with labels', () => {
    const s = parseMetrics('# HELP x\nprocess_resident_memory_bytes{service="gateway"} 1048576\nrunnel_gateway_requests_total{runnable="echo",endpoint="invoke",status="200"} 7\n');
    expect(s).toEqual([
      { name: 'process_resident_memory_bytes', labels: { service: 'gateway' }, value: 1048576 },
      { name: 'runnel_gateway_requests_total', labels: { runnable: 'echo', endpoint: 'invoke', status: '200' }, value: 7 },
    ]);
  });
});

describe('pipeline pass criteria', () => {
  const ok = { expectedEvents: 1000, checkpointLagEndS: 2, peakRssMiB: { 'change-reader': 150, 'batch-writer': 180 }, lake: { events: 1000, maxSeq: 1000, missing: 0, duplicates: 0, badObjects: 0 } };
  it('passes when lag, RSS and the lake are all right', () => {
    expect(allPass(evaluatePipeline(ok))).toBe(true);
  });
  it.each([
    ['lag at the limit', { checkpointLagEndS: 10 }],
    ['lag unknown', { checkpointLagEndS: NaN }],
    ['a service at 256 MiB', { peakRssMiB: { 'change-reader': 150, 'batch-writer': 256 } }],
    ['an event missing', { lake: { ...ok.lake, events: 999, missing: 1 } }],
    ['a duplicate', { lake: { ...ok.lake, events: 1001, duplicates: 1 } }],
    ['the tail never arrived', { lake: { ...ok.lake, events: 900, maxSeq: 900 } }],
    ['the lake not read', { lake: undefined }],
  ])('fails with %s', (_what, change) => {
    expect(allPass(evaluatePipeline({ ...ok, ...change }))).toBe(false);
  });
});

describe('scenarios and arguments', () => {
  it('the issue’s scenarios exist; the soak runs at 10 M requests a day with an RSS bound', () => {
    expect(Object.keys(SCENARIOS)).toEqual(['basic-invoke', 'streaming', 'batch', 'mixed-workload', '10m-requests-day', 'pipeline-soak']);
    const soak = SCENARIOS['10m-requests-day'];
    expect(soak.kind === 'http' && Math.abs(soak.rate - 10_000_000 / 86_400) < 1 && soak.rssGrowthBoundMiB).toBeTruthy();
  });

  it('the mix is interleaved by weight', () => {
    const seq = mixSequence([
      { name: 'a', path: '/a', body: {}, expect: 'json', weight: 3 },
      { name: 'b', path: '/b', body: {}, expect: 'json', weight: 1 },
    ]).map((k) => k.name);
    expect(seq.sort()).toEqual(['a', 'a', 'a', 'b']);
    const mixed = mixSequence(SCENARIOS['mixed-workload'].kind === 'http' ? SCENARIOS['mixed-workload'].mix : []).map((k) => k.name);
    expect(mixed.filter((n) => n === 'echo/invoke')).toHaveLength(6);
    expect(mixed).toHaveLength(10);
    expect(mixed.join(' ')).not.toContain('echo/invoke echo/invoke echo/invoke');
  });

  it('durations and options', () => {
    expect([parseDuration('30'), parseDuration('30s'), parseDuration('10m'), parseDuration('1h'), parseDuration('500ms')]).toEqual([30, 30, 600, 3600, 0.5]);
    expect(() => parseDuration('ten')).toThrow('bad duration');
    expect(parseArgs(['10m-requests-day', '--duration', '10m', '--rate=50'], { LOAD_API_KEY: 'k' })).toMatchObject({ scenarios: ['10m-requests-day'], durationS: 600, rate: 50, apiKey: 'k' });
    expect(parseArgs(['all']).scenarios).toHaveLength(6);
    expect(() => parseArgs(['nope'])).toThrow('unknown scenario');
    expect(() => parseArgs(['batch', '--bogus', '1'])).toThrow('unknown option');
    expect(() => parseArgs(['batch', '--rate', '-1'])).toThrow('positive');
  });
});

/** The CLI as `npm run load` runs it (bundled by run-ts.mjs), with its exit code and JSON report. */
async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | string | null; out: string; reports: HttpReport[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'runnel-load-spec-'));
  const json = join(dir, 'report.json');
  const child = Child.node('load', 'tools/dev/run-ts.mjs', ['tools/load/run.ts', ...args, '--json', json], { env });
  const code = await child.exited;
  let reports: HttpReport[] = [];
  try {
    reports = JSON.parse(readFileSync(json, 'utf8'));
  } catch {
    /* no report: the assertions on it fail with the output shown */
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, out: child.output, reports };
}

describe('real runs against a built gateway', () => {
  it('basic-invoke, short and slow, passes: exit 0 and a complete report', async () => {
    const { code, out, reports } = await runCli(['basic-invoke', '--duration', '3s', '--rate', '50', '--warmup', '0']);
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toContain('RESULT: PASS (basic-invoke)');
    const [r] = reports;
    expect(r).toMatchObject({ scenario: 'basic-invoke', kind: 'http', targetRate: 50, pass: true, errors: { total: 0 }, statusCodes: { '200': r.responses } });
    expect(r.responses).toBeGreaterThan(0);
    expect(r.attempts).toBe(r.responses);
    expect(r.latency.count).toBe(r.responses);
    expect(r.latency.p95).toBeGreaterThan(0);
    expect(r.rss!.startMiB).toBeGreaterThan(20);
    expect(r.criteria.map((c) => [c.name, c.pass])).toEqual([
      ['error rate', true],
      ['p95 latency', true],
      ['p99 latency', true],
      ['rate achieved', true],
    ]);
    // The gateway counted what the load generator saw (plus at most the requests cut off at the end).
    expect(r.gatewayCounted!['echo/invoke 200']).toBeGreaterThanOrEqual(r.responses);
  }, 60_000);

  it('an overloaded gateway (MAX_CONCURRENT_REQUESTS=1, many connections) fails on errors: exit 1', async () => {
    // Streams must overlap to hit the limit: with no pause between tokens each runs within one macrotask.
    const gateway = await startLocalGateway({ MAX_CONCURRENT_REQUESTS: '1', LOCAL_MODEL_TOKEN_DELAY_MS: '2' });
    try {
      const { code, out, reports } = await runCli(
        ['streaming', '--url', gateway.url, '--metrics-url', gateway.metricsUrl!, '--duration', '3s', '--rate', '1000', '--connections', '50', '--warmup', '0'],
        { LOAD_API_KEY: gateway.apiKey! },
      );
      expect({ code, out }).toMatchObject({ code: 1 });
      expect(out).toContain('RESULT: FAIL (streaming)');
      expect(out).not.toContain(gateway.apiKey!);
      const [r] = reports;
      expect(r.pass).toBe(false);
      expect(r.statusCodes['503']).toBeGreaterThan(0);
      expect(r.errors.non2xx).toBe(r.statusCodes['503']);
      expect(r.criteria.find((c) => c.name === 'error rate')).toMatchObject({ pass: false });
      expect(r.rss).toBeDefined(); // from the remote gateway's process_resident_memory_bytes
    } finally {
      await gateway.stop();
    }
  }, 60_000);
});
