import { Histogram, Registry } from 'prom-client';
import { histogramSeries } from './histogram-series';
import { GatewayMetrics } from './gateway-metrics';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

function pair() {
  const direct = new Registry();
  const deferred = new Registry();
  for (const r of [direct, deferred]) r.setDefaultLabels({ service: 'gateway' });
  const a = new Histogram({ name: 'h', help: 'h', labelNames: ['runnable', 'endpoint'], buckets: BUCKETS, registers: [direct] });
  const b = new Histogram({ name: 'h', help: 'h', labelNames: ['runnable', 'endpoint'], buckets: BUCKETS, registers: [deferred] });
  return { direct, deferred, a, b };
}

// A deterministic mix of values: every bound exactly (le is inclusive), between bounds, past the last, and 0.
function values(n: number): number[] {
  let x = 7;
  const out: number[] = [...BUCKETS, 0, 121, 1e6];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out.push((x / 2 ** 31) ** 3 * 150);
  }
  return out;
}

describe('histogramSeries', () => {
  it('gives the exposition prom-client gives when every value is observed through its children, scrape after scrape', async () => {
    const { direct, deferred, a, b } = pair();
    const series = [
      ['lambda', 'invoke'],
      ['lambda', 'stream'],
      ['echo', 'invoke'],
    ] as const;
    const handles = new Map<string, { observe(v: number): void }>();
    const vs = values(3_000);
    for (let round = 0; round < 3; round++) {
      vs.forEach((v, i) => {
        // A series starts being observed in round 1 only: it must come after the others, as directly.
        const [runnable, endpoint] = series[(i + round) % (round === 0 ? 2 : 3)];
        a.labels(runnable, endpoint).observe(v);
        const key = `${runnable}/${endpoint}`;
        if (!handles.has(key)) handles.set(key, histogramSeries(b, { runnable, endpoint }));
        handles.get(key)?.observe(v);
      });
      expect(await deferred.metrics()).toBe(await direct.metrics());
      expect(await b.get()).toEqual(await a.get());
    }
  });

  it('a reset histogram, or a removed series, starts again from what is observed after it', async () => {
    const { direct, deferred, a, b } = pair();
    const h = histogramSeries(b, { runnable: 'x', endpoint: 'invoke' });
    a.labels('x', 'invoke').observe(0.2);
    h.observe(0.2);
    expect(await deferred.metrics()).toBe(await direct.metrics());
    a.reset();
    b.reset();
    a.labels('x', 'invoke').observe(3);
    h.observe(3);
    expect(await deferred.metrics()).toBe(await direct.metrics());
    a.remove('x', 'invoke');
    b.remove('x', 'invoke');
    expect(await deferred.metrics()).toBe(await direct.metrics());
    a.labels('x', 'invoke').observe(0.01);
    h.observe(0.01);
    expect(await deferred.metrics()).toBe(await direct.metrics());
  });

  it('observes into the series prom-client observes into (one series per label set, whoever observes)', async () => {
    const { direct, deferred, a, b } = pair();
    const h = histogramSeries(b, { runnable: 'x', endpoint: 'invoke' });
    for (const v of [0.3, 7, 0.0001]) {
      a.labels('x', 'invoke').observe(v);
      a.labels('x', 'invoke').observe(v);
      b.labels('x', 'invoke').observe(v);
      h.observe(v);
    }
    expect(await deferred.metrics()).toBe(await direct.metrics());
  });

  it('refuses what prom-client refuses', () => {
    const { b } = pair();
    const h = histogramSeries(b, { runnable: 'x', endpoint: 'invoke' });
    expect(() => h.observe(Number.NaN)).toThrow(TypeError);
    expect(() => h.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });

  it('without prom-client 15 internals, hands out prom-client children (same figures)', async () => {
    const { direct, deferred, a, b } = pair();
    Object.defineProperty(b, 'upperBounds', { value: undefined });
    const h = histogramSeries(b, { runnable: 'x', endpoint: 'invoke' });
    Object.defineProperty(b, 'upperBounds', { value: BUCKETS });
    for (const v of values(50)) {
      a.labels('x', 'invoke').observe(v);
      h.observe(v);
    }
    expect(await deferred.metrics()).toBe(await direct.metrics());
  });

  it("GatewayMetrics' duration and stream-chunk histograms show what was observed", async () => {
    const registry = new Registry();
    const metrics = new GatewayMetrics(registry);
    metrics.observeDuration('lambda', 'invoke', 0.004);
    metrics.observeDuration('lambda', 'invoke', 0.02);
    metrics.observeStreamChunks('lambda', 'stream', 9);
    const duration = await metrics.duration.get();
    expect(duration.values.find((v) => v.metricName?.endsWith('_count'))).toMatchObject({ value: 2, labels: { runnable: 'lambda', endpoint: 'invoke' } });
    expect(duration.values.find((v) => v.metricName?.endsWith('_sum'))?.value).toBeCloseTo(0.024, 10);
    expect(duration.values.find((v) => (v.labels as Record<string, unknown>).le === 0.005)?.value).toBe(1);
    const chunks = await metrics.streamChunks.get();
    expect(chunks.values.find((v) => (v.labels as Record<string, unknown>).le === 10)?.value).toBe(1);
    expect(chunks.values.find((v) => (v.labels as Record<string, unknown>).le === 5)?.value).toBe(0);
  });
});
