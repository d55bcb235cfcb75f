import { parseMetrics } from '@runnel/testing';
import type { AutocannonSummary } from './load-client';
import { benchCommandLine, readOptions } from './options';
import { roundRatios, summariseRuns, type Run } from './scenarios/runs';
import { bySeries } from './servers';

describe('gateway bench options', () => {
  const read = (argv: string[], env: NodeJS.ProcessEnv = {}) => readOptions(benchCommandLine(argv, env));

  it('defaults, flags, then environment variables', () => {
    const d = read([]);
    expect(d).toMatchObject({ duration: 10, connections: 50, rounds: 2, warmup: 5, rate: 1000, rateConnections: 10, rateDuration: 10, streams: 5000, build: 'always', profile: 'auto', paired: false });
    expect([...d.only]).toEqual(['throughput', 'lambda', 'rate', 'streams', 'profile']);
    expect(d.lambdaBareNodeArgs).toEqual(d.gatewayNodeArgs); // the control runs with the gateway's flags
    const o = read(['--duration=3', '--only=lambda,profile', '--no-build', '--profile', '--paired', '--gateway-node-args=--a --b'], { BENCH_ROUNDS: '4', BENCH_DURATION: '9' });
    expect(o).toMatchObject({ duration: 3, rounds: 4, build: 'missing', profile: 'always', paired: true, gatewayNodeArgs: ['--a', '--b'], lambdaBareNodeArgs: ['--a', '--b'] });
    expect([...o.only]).toEqual(['lambda', 'profile']);
    expect(read(['--no-profile']).profile).toBe('never');
    expect(read([], { BENCH_PROFILE: 'never', BENCH_PAIRED: '1', BENCH_BUILD: 'missing' })).toMatchObject({ profile: 'never', paired: true, build: 'missing' });
    expect(read(['--gateway-commit=HEAD']).build).toBe('missing');
  });

  it('refuses a bad value with the option’s name, and two gateways to benchmark', () => {
    expect(() => read(['--duration=0'])).toThrow(/--duration \(BENCH_DURATION\): expected a positive number/);
    expect(() => read(['--gateway-main=a.js', '--gateway-commit=HEAD'])).toThrow('give one');
    expect(() => read(['--duratoin=3'])).toThrow('unknown option --duratoin');
  });
});

describe('gateway bench figures', () => {
  const run = (reqPerSec: number, total: number, serverSeconds: number): Run => ({
    ...({ reqPerSec, total, errors: 1, timeouts: 0, non2xx: 2, mismatches: 0, latencyMs: { p50: 2, p99: 10 } } as AutocannonSummary),
    cpu: { serverSeconds, serverThreads: { main: serverSeconds / 2, v8: serverSeconds / 2, libuv: 0, other: 0 }, serverCores: 1, loadGenCores: 0.2, otherCores: 0.1 },
  });

  it('CPU per request is the rounds’ server seconds over their requests; the best round separately', () => {
    const s = summariseRuns([run(1000, 10_000, 1), run(500, 5_000, 1)]);
    expect(s).toMatchObject({ runs: 2, reqPerSec: 750, reqPerSecMin: 500, reqPerSecMax: 1000, errors: 2, non2xx: 4 });
    expect(s.cpuUsPerReq).toBeCloseTo((2 * 1e6) / 15_000);
    expect(s.cpuUsPerReqMin).toBeCloseTo(100);
    expect(s.cpuUsPerReqByThread.main).toBeCloseTo(1e6 / 15_000);
  });

  it('per-round ratios pair round i with round i; their median leaves an outlying round out', () => {
    // Round 2 the machine slowed both; round 3 only the gateway (an outlier the mean would take in).
    const gateway = [run(800, 8_000, 0.8), run(400, 4_000, 0.8), run(200, 2_000, 1), run(800, 8_000, 0.8)];
    const bare = [run(1000, 10_000, 0.8), run(500, 5_000, 0.8), run(1000, 10_000, 0.8), run(1000, 10_000, 0.8)];
    const r = roundRatios(gateway, bare);
    expect(r.reqPerSec).toBeCloseTo(0.8);
    // CPU per request: gateway 100, 200, 500, 100 µs against bare 80, 160, 80, 80 → ratios 0.8, 0.8, 0.16, 0.8.
    expect(r.cpu).toBeCloseTo(0.8);
  });

  it('reads metrics by name (first series) and by labels without the service label', () => {
    const m = bySeries(
      parseMetrics(
        [
          'nodejs_gc_duration_seconds_count{service="gateway",kind="minor"} 3',
          'nodejs_gc_duration_seconds_count{service="gateway",kind="major"} 1',
          'nodejs_gc_duration_seconds_bucket{le="0.01",service="gateway",kind="minor"} 2',
          'runnel_gateway_open_streams{service="gateway"} 7',
        ].join('\n'),
      ),
    );
    expect(m).toEqual({
      nodejs_gc_duration_seconds_count: 3,
      'nodejs_gc_duration_seconds_count{kind="minor"}': 3,
      'nodejs_gc_duration_seconds_count{kind="major"}': 1,
      nodejs_gc_duration_seconds_bucket: 2,
      'nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"}': 2,
      runnel_gateway_open_streams: 7,
    });
  });
});
