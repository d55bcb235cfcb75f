import { percentile } from '@runnel/testing';

/**
 * Pass criteria of the load tests, as pure functions of what a run measured: the CLI prints them and
 * exits non-zero when any fails.
 */

export const HTTP_CRITERIA = {
  /** < 0.1 % of requests may fail (connection errors, timeouts, non-2xx, bodies that are not a full answer). */
  maxErrorRate: 0.001,
  p95Ms: 200,
  p99Ms: 500,
  /**
   * A paced run only means something at its rate: when the gateway (or the machine) cannot keep up,
   * autocannon sends less and the latencies look better than they are.
   */
  minRateRatio: 0.95,
};

export const PIPELINE_CRITERIA = {
  /** Now minus the scheduled time of the checkpointed event, at the end of the window. */
  maxCheckpointLagS: 10,
  maxRssMiB: 256,
};

export interface CriterionResult {
  name: string;
  limit: string;
  actual: string;
  pass: boolean;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RssSummary {
  samples: number;
  startMiB: number;
  endMiB: number;
  peakMiB: number;
  growthMiB: number;
  /** Least-squares slope over the samples, MiB per minute. */
  slopeMiBPerMin: number;
}

export interface HttpMeasurement {
  /** Responses plus requests that got none (connection errors, timeouts). */
  attempts: number;
  /** Connection errors, timeouts, non-2xx and malformed 2xx bodies. */
  errors: number;
  targetRate: number;
  achievedRate: number;
  latency: LatencySummary;
  rss?: RssSummary;
  /** Set for the soak only. */
  rssGrowthBoundMiB?: number;
}

export function summariseLatencies(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.length ? sorted[sorted.length - 1] : Number.NaN };
}

/** RSS samples in MiB, oldest first (taken after warm-up). */
export function summariseRss(samplesMiB: number[], everyS: number): RssSummary | undefined {
  if (samplesMiB.length === 0) return undefined;
  const n = samplesMiB.length;
  const meanX = ((n - 1) * everyS) / 2;
  const meanY = samplesMiB.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  samplesMiB.forEach((y, i) => {
    num += (i * everyS - meanX) * (y - meanY);
    den += (i * everyS - meanX) ** 2;
  });
  return {
    samples: n,
    startMiB: samplesMiB[0],
    endMiB: samplesMiB[n - 1],
    peakMiB: Math.max(...samplesMiB),
    growthMiB: samplesMiB[n - 1] - samplesMiB[0],
    slopeMiBPerMin: den > 0 ? (num / den) * 60 : 0,
  };
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
const pct = (v: number) => `${(v * 100).toFixed(3)} %`;

export function evaluateHttp(m: HttpMeasurement, c = HTTP_CRITERIA): CriterionResult[] {
  const errorRate = m.attempts > 0 ? m.errors / m.attempts : 1;
  const rateRatio = m.targetRate > 0 ? m.achievedRate / m.targetRate : 1;
  const out: CriterionResult[] = [
    { name: 'error rate', limit: `< ${pct(c.maxErrorRate)}`, actual: `${pct(errorRate)} (${m.errors}/${m.attempts})`, pass: m.attempts > 0 && errorRate < c.maxErrorRate },
    // No successful response at all is a failure, not a vacuous pass.
    { name: 'p95 latency', limit: `< ${c.p95Ms} ms`, actual: ms(m.latency.p95), pass: m.latency.count > 0 && m.latency.p95 < c.p95Ms },
    { name: 'p99 latency', limit: `< ${c.p99Ms} ms`, actual: ms(m.latency.p99), pass: m.latency.count > 0 && m.latency.p99 < c.p99Ms },
    {
      name: 'rate achieved',
      limit: `>= ${Math.round(c.minRateRatio * 100)} % of ${m.targetRate} req/s`,
      actual: `${m.achievedRate.toFixed(1)} req/s (${(rateRatio * 100).toFixed(1)} %)`,
      pass: rateRatio >= c.minRateRatio,
    },
  ];
  if (m.rssGrowthBoundMiB !== undefined) {
    out.push({
      name: 'RSS growth (no leak)',
      limit: `< ${m.rssGrowthBoundMiB} MiB first post-warm-up sample → end`,
      actual: m.rss ? `${m.rss.growthMiB.toFixed(1)} MiB (${m.rss.startMiB.toFixed(1)} → ${m.rss.endMiB.toFixed(1)}; slope ${m.rss.slopeMiBPerMin.toFixed(2)} MiB/min)` : 'not measured (no pid and no --metrics-url)',
      pass: m.rss !== undefined && m.rss.growthMiB < m.rssGrowthBoundMiB,
    });
  }
  return out;
}

export interface PipelineMeasurement {
  /** Events the source was asked for (rate × duration). */
  expectedEvents: number;
  /** At the end of the window, or NaN when the reader could not be read. */
  checkpointLagEndS: number;
  peakRssMiB: Record<string, number>;
  lake: { events: number; missing: number; duplicates: number; badObjects: number; maxSeq: number } | undefined;
}

export function evaluatePipeline(m: PipelineMeasurement, c = PIPELINE_CRITERIA): CriterionResult[] {
  const out: CriterionResult[] = [
    {
      name: 'checkpoint lag at end of window',
      limit: `< ${c.maxCheckpointLagS} s`,
      actual: Number.isFinite(m.checkpointLagEndS) ? `${m.checkpointLagEndS.toFixed(1)} s` : 'n/a',
      pass: Number.isFinite(m.checkpointLagEndS) && m.checkpointLagEndS < c.maxCheckpointLagS,
    },
  ];
  for (const [service, peak] of Object.entries(m.peakRssMiB)) {
    out.push({ name: `${service} peak RSS`, limit: `< ${c.maxRssMiB} MiB`, actual: Number.isFinite(peak) ? `${peak.toFixed(1)} MiB` : 'n/a', pass: Number.isFinite(peak) && peak < c.maxRssMiB });
  }
  const l = m.lake;
  out.push({
    name: 'lake exact',
    limit: `${m.expectedEvents} events, 0 missing, 0 duplicates, 0 bad objects`,
    actual: l ? `${l.events} events (max seq ${l.maxSeq}), ${l.missing} missing, ${l.duplicates} duplicates, ${l.badObjects} bad` : 'not verified',
    pass: !!l && l.events === m.expectedEvents && l.maxSeq === m.expectedEvents && l.missing === 0 && l.duplicates === 0 && l.badObjects === 0,
  });
  return out;
}

export const allPass = (results: CriterionResult[]): boolean => results.length > 0 && results.every((r) => r.pass);
