import { readFileSync } from 'node:fs';
import { autocannon, type AutocannonRequest } from './autocannon';
import { allPass, type CriterionResult, evaluateHttp, HTTP_CRITERIA, type LatencySummary, type RssSummary, summariseLatencies, summariseRss } from './criteria';
import { type GatewayUnderTest, rssSource as rssSourceOf } from './gateway-under-test';
import { procCpuSeconds, Sampler, scrape } from '@runnel/testing';
import { metricMiB, readRss } from './rss-sampler';
import { type HttpScenario, mixSequence, type RequestKind } from './scenarios';

export interface HttpSettings {
  rate: number;
  connections: number;
  durationS: number;
  warmupS: number;
}

export interface KindStats {
  responses: number;
  ok: number;
  malformed: number;
  latency: LatencySummary;
}

export interface HttpReport {
  scenario: string;
  kind: 'http';
  description: string;
  gateway: string;
  settings: HttpSettings & { rssEveryMs: number; rssGrowthBoundMiB?: number };
  startedAt: string;
  loadAvg: { before: string; after: string };
  /** Wall time of the measured run, s. */
  elapsedS: number;
  attempts: number;
  responses: number;
  errors: { total: number; connection: number; timeouts: number; non2xx: number; malformed: number };
  statusCodes: Record<string, number>;
  targetRate: number;
  achievedRate: number;
  /** 2xx responses only, write of the request to the last byte of the body (whole stream for SSE). */
  latency: LatencySummary;
  perKind: Record<string, KindStats>;
  /** Streams fetched separately after the run, read to the end with fetch. */
  sseSample?: { fetched: number; endedWithEnd: number };
  rss?: RssSummary & { seriesMiB: number[] };
  /** V8 heap used (nodejs_heap_size_used_bytes), sampled with RSS when the metrics URL is known: tells heap growth from native memory. */
  heapUsed?: RssSummary & { seriesMiB: number[] };
  /** Gateway CPU during the measured run, in cores (local gateway only). */
  gatewayCpuCores?: number;
  /** The gateway's own count of requests during the measured run (runnel_gateway_requests_total delta). */
  gatewayCounted?: Record<string, number>;
  criteria: CriterionResult[];
  pass: boolean;
}

const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** A 2xx body is a full answer: JSON with an output, or a stream that reached `event: end`. */
export function completeBody(expect: RequestKind['expect'], body: string): boolean {
  return expect === 'sse' ? /(^|\n)event: end\r?\n/.test(body) && !/(^|\n)event: error\r?\n/.test(body) : body.includes('"output"');
}

async function gatewayCounts(metricsUrl: string | undefined): Promise<Record<string, number> | undefined> {
  if (!metricsUrl) return undefined;
  try {
    const out: Record<string, number> = {};
    for (const s of await scrape(metricsUrl)) {
      if (s.name === 'runnel_gateway_requests_total') out[`${s.labels.runnable}/${s.labels.endpoint} ${s.labels.status}`] = s.value;
    }
    return out;
  } catch {
    return undefined;
  }
}

function delta(before: Record<string, number> | undefined, after: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!before || !after) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** Fetches a few streams per SSE kind and checks each is read to `event: end` (independent of autocannon's parser). */
async function sampleStreams(gateway: GatewayUnderTest, kinds: RequestKind[], headers: Record<string, string>, perKind = 5) {
  let fetched = 0;
  let endedWithEnd = 0;
  for (const k of kinds.filter((x) => x.expect === 'sse')) {
    for (let i = 0; i < perKind; i++) {
      fetched++;
      try {
        const res = await fetch(`${gateway.url}${k.path}`, { method: 'POST', headers, body: JSON.stringify(k.body), signal: AbortSignal.timeout(10_000) });
        if (res.ok && completeBody('sse', await res.text())) endedWithEnd++;
      } catch {
        /* counted as not ended */
      }
    }
  }
  return fetched ? { fetched, endedWithEnd } : undefined;
}

export async function runHttpScenario(scenario: HttpScenario, gateway: GatewayUnderTest, settings: HttpSettings, log: (line: string) => void = () => undefined): Promise<HttpReport> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (gateway.apiKey) headers.authorization = `Bearer ${gateway.apiKey}`;
  const sequence = mixSequence(scenario.mix);
  const startedAt = new Date().toISOString();
  const before = loadAvg();

  // Which kind a response belongs to: autocannon calls onResponse and then emits 'response' for the same
  // request synchronously, so the kind set in one is the kind of the other.
  let current: RequestKind | undefined;
  const perKind: Record<string, { responses: number; ok: number; malformed: number; latencies: number[] }> = Object.fromEntries(
    scenario.mix.map((k) => [k.name, { responses: 0, ok: 0, malformed: 0, latencies: [] }]),
  );
  let recording = false;
  const requests: AutocannonRequest[] = sequence.map((k) => ({
    method: 'POST',
    path: k.path,
    headers,
    body: JSON.stringify(k.body),
    onResponse: (status, body) => {
      current = k;
      if (!recording) return;
      const s = perKind[k.name];
      s.responses++;
      if (status >= 200 && status < 300) {
        if (completeBody(k.expect, body)) s.ok++;
        else s.malformed++;
      }
    },
  }));
  const fire = (durationS: number) => {
    const instance = autocannon({ url: gateway.url, connections: settings.connections, duration: durationS, overallRate: settings.rate, timeout: 10, requests });
    instance.on('response', (_client, status, _bytes, responseTimeMs) => {
      if (recording && current && status >= 200 && status < 300) perKind[current.name].latencies.push(responseTimeMs);
    });
    return instance;
  };

  if (settings.warmupS > 0) {
    log(`${scenario.name}: warm-up ${settings.warmupS} s at ${settings.rate} req/s, ${settings.connections} connections`);
    await fire(settings.warmupS);
  }

  log(`${scenario.name}: measuring ${settings.durationS} s at ${settings.rate} req/s, ${settings.connections} connections`);
  const countsBefore = await gatewayCounts(gateway.metricsUrl);
  const rssSource = rssSourceOf(gateway);
  const metricsUrl = gateway.metricsUrl;
  const sampler = rssSource ? new Sampler(() => readRss(rssSource), scenario.rssEveryMs).start() : undefined;
  const heapSampler = metricsUrl ? new Sampler(() => metricMiB(metricsUrl, 'nodejs_heap_size_used_bytes'), scenario.rssEveryMs).start() : undefined;
  const cpu0 = gateway.pid ? procCpuSeconds(gateway.pid) : Number.NaN;
  const t0 = performance.now();
  recording = true;
  const result = await fire(settings.durationS);
  recording = false;
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu1 = gateway.pid ? procCpuSeconds(gateway.pid) : Number.NaN;
  const rssSeries = sampler ? await sampler.stop() : [];
  const heapSeries = heapSampler ? await heapSampler.stop() : [];
  const heapUsed = summariseRss(heapSeries, scenario.rssEveryMs / 1000);
  const countsAfter = await gatewayCounts(gateway.metricsUrl);
  const sseSample = await sampleStreams(gateway, scenario.mix, headers);
  const after = loadAvg();

  const kinds = Object.values(perKind);
  const malformed = kinds.reduce((a, k) => a + k.malformed, 0);
  const responses = result.requests.total;
  // result.errors already includes the timeouts.
  const attempts = responses + result.errors;
  const errorsTotal = result.errors + result.non2xx + malformed;
  const latency = summariseLatencies(kinds.flatMap((k) => k.latencies));
  const rss = summariseRss(rssSeries, scenario.rssEveryMs / 1000);
  const achievedRate = attempts / elapsedS;
  const criteria = evaluateHttp({ attempts, errors: errorsTotal, targetRate: settings.rate, achievedRate, latency, rss, rssGrowthBoundMiB: scenario.rssGrowthBoundMiB }, HTTP_CRITERIA);
  if (sseSample) {
    criteria.push({ name: 'SSE sample read to event: end', limit: `${sseSample.fetched}/${sseSample.fetched}`, actual: `${sseSample.endedWithEnd}/${sseSample.fetched}`, pass: sseSample.endedWithEnd === sseSample.fetched });
  }
  return {
    scenario: scenario.name,
    kind: 'http',
    description: scenario.description,
    gateway: gateway.describe,
    settings: { ...settings, rssEveryMs: scenario.rssEveryMs, rssGrowthBoundMiB: scenario.rssGrowthBoundMiB },
    startedAt,
    loadAvg: { before, after },
    elapsedS,
    attempts,
    responses,
    errors: { total: errorsTotal, connection: result.errors - result.timeouts, timeouts: result.timeouts, non2xx: result.non2xx, malformed },
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count])),
    targetRate: settings.rate,
    achievedRate,
    latency,
    perKind: Object.fromEntries(Object.entries(perKind).map(([name, k]) => [name, { responses: k.responses, ok: k.ok, malformed: k.malformed, latency: summariseLatencies(k.latencies) }])),
    sseSample,
    rss: rss && { ...rss, seriesMiB: rssSeries.map((x) => Math.round(x * 10) / 10) },
    heapUsed: heapUsed && { ...heapUsed, seriesMiB: heapSeries.map((x) => Math.round(x * 10) / 10) },
    gatewayCpuCores: Number.isFinite(cpu1 - cpu0) ? (cpu1 - cpu0) / elapsedS : undefined,
    gatewayCounted: delta(countsBefore, countsAfter),
    criteria,
    pass: allPass(criteria),
  };
}
