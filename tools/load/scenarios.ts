import { OptionError } from '@runnel/testing';
/**
 * The load scenarios: what each sends, how fast, for how long. `npm run load -- <name>`.
 *
 * HTTP scenarios are paced (autocannon `overallRate`): they check that the gateway meets its latency and
 * error targets at a stated rate, not how fast it can go (tools/bench/gateway measures that).
 */

/** One kind of request in a scenario's mix. */
export interface RequestKind {
  /** Short label used in reports, e.g. `echo/invoke`. */
  name: string;
  path: string;
  body: unknown;
  /** `json`: a 2xx body must carry `"output"`; `sse`: a 2xx body must end with `event: end`. */
  expect: 'json' | 'sse';
  /** Share of the mix, relative to the other kinds. */
  weight: number;
}

export interface HttpScenario {
  kind: 'http';
  name: string;
  description: string;
  /** Target requests per second over all connections. */
  rate: number;
  connections: number;
  durationS: number;
  /** Same load before measuring, so JIT and pools are warm; not counted. */
  warmupS: number;
  /** RSS sampled this often during the measured run. */
  rssEveryMs: number;
  /** Only the soak enforces RSS growth: short runs are dominated by heap sizing, not leaks. */
  rssGrowthBoundMiB?: number;
  mix: RequestKind[];
  /** Environment for a gateway the script starts (ignored with --url). */
  gatewayEnv?: Record<string, string>;
}

export interface PipelineScenario {
  kind: 'pipeline';
  name: string;
  description: string;
  /** Synthetic events per second (SYNTHETIC_RATE). */
  rate: number;
  durationS: number;
  sampleEveryS: number;
  docBytes: number;
}

export type Scenario = HttpScenario | PipelineScenario;

const ECHO_INVOKE: Omit<RequestKind, 'weight'> = { name: 'echo/invoke', path: '/echo/invoke', body: { input: { text: 'hello world', n: 42 } }, expect: 'json' };
const ECHO_BATCH: Omit<RequestKind, 'weight'> = {
  name: 'echo/batch',
  path: '/echo/batch',
  body: { inputs: Array.from({ length: 10 }, (_, i) => ({ text: `item ${i}`, n: i })) },
  expect: 'json',
};
const CHAT_STREAM: Omit<RequestKind, 'weight'> = { name: 'chat/stream', path: '/chat/stream', body: { input: { input: 'hi, how are you today?' } }, expect: 'sse' };
const CHAT_INVOKE: Omit<RequestKind, 'weight'> = { name: 'chat/invoke', path: '/chat/invoke', body: { input: { input: 'what is a data lake?' } }, expect: 'json' };
const ECHO_STREAM: Omit<RequestKind, 'weight'> = { name: 'echo/stream', path: '/echo/stream', body: { input: 'one two three four five six' }, expect: 'sse' };

/**
 * The local chat model pauses this long between tokens. With no pause a whole stream runs in one
 * macrotask, so streams never overlap in the gateway and its concurrency limit, timers and multi-write
 * SSE path go untested; 5 ms × ~10 tokens makes each chat answer take ~50 ms, like a (fast) model.
 */
const MODEL_LIKE = { LOCAL_MODEL_TOKEN_DELAY_MS: '5' };

/** 10 million requests a day, spread evenly: 10,000,000 / 86,400 s = 115.7 req/s. */
export const TEN_M_PER_DAY_RATE = 116;

/**
 * The soak's leak bound. The gateway idles at ~100 MiB; V8's young generation alone can take 3 × 8 MiB
 * (`--max-semi-space-size=8`, as deployed) and the old generation grows until its first major GCs, so a
 * healthy process moves by 10–20 MiB. 32 MiB over the default 60 s catches a leak of ≥ 4.7 KiB per request
 * at 116 req/s (≥ 0.5 KiB per request with `--duration 10m`).
 */
export const SOAK_RSS_GROWTH_BOUND_MIB = 32;

const MIXED: RequestKind[] = [
  { ...ECHO_INVOKE, weight: 6 },
  { ...ECHO_BATCH, weight: 1 },
  { ...CHAT_INVOKE, weight: 1 },
  { ...CHAT_STREAM, weight: 1 },
  { ...ECHO_STREAM, weight: 1 },
];

export const SCENARIOS: Record<string, Scenario> = {
  'basic-invoke': {
    kind: 'http',
    name: 'basic-invoke',
    description: 'POST /echo/invoke at a steady rate',
    rate: 500,
    connections: 10,
    durationS: 30,
    warmupS: 5,
    rssEveryMs: 1000,
    mix: [{ ...ECHO_INVOKE, weight: 1 }],
  },
  streaming: {
    kind: 'http',
    name: 'streaming',
    description: 'POST /chat/stream (local model at 5 ms per token, SSE read to `event: end`)',
    rate: 100,
    connections: 20,
    durationS: 30,
    warmupS: 5,
    rssEveryMs: 1000,
    gatewayEnv: MODEL_LIKE,
    mix: [{ ...CHAT_STREAM, weight: 1 }],
  },
  batch: {
    kind: 'http',
    name: 'batch',
    description: 'POST /echo/batch with 10 inputs each (1,000 runs/s)',
    rate: 100,
    connections: 10,
    durationS: 30,
    warmupS: 5,
    rssEveryMs: 1000,
    mix: [{ ...ECHO_BATCH, weight: 1 }],
  },
  'mixed-workload': {
    kind: 'http',
    name: 'mixed-workload',
    description: '60% echo/invoke, 10% each echo/batch (10 inputs), chat/invoke, chat/stream, echo/stream',
    rate: 300,
    connections: 20,
    durationS: 30,
    warmupS: 5,
    rssEveryMs: 1000,
    gatewayEnv: MODEL_LIKE,
    mix: MIXED,
  },
  '10m-requests-day': {
    kind: 'http',
    name: '10m-requests-day',
    description: `soak: the mixed workload at ${TEN_M_PER_DAY_RATE} req/s (10 M requests/day); RSS every second`,
    rate: TEN_M_PER_DAY_RATE,
    connections: 10,
    durationS: 60,
    warmupS: 10,
    rssEveryMs: 1000,
    rssGrowthBoundMiB: SOAK_RSS_GROWTH_BOUND_MIB,
    gatewayEnv: MODEL_LIKE,
    mix: MIXED,
  },
  'pipeline-soak': {
    kind: 'pipeline',
    name: 'pipeline-soak',
    description: 'synthetic source at a fixed rate through the three pipeline services to S3; lag and RSS every 5 s',
    rate: 2000,
    durationS: 60,
    sampleEveryS: 5,
    docBytes: 512,
  },
};

/** `30`, `30s`, `10m`, `1h`, `1.5m` → seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new OptionError(`bad duration "${text}" (expected e.g. 30s, 10m, 1h)`);
  const n = Number(m[1]);
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  const s = n * unit[m[2] ?? 's'];
  if (!(s > 0)) throw new OptionError(`duration must be positive: "${text}"`);
  return s;
}

/**
 * The mix as the request sequence each connection cycles through, kinds interleaved by weight
 * (6:1:1 → a b a c a a …) so that a short run still sees every kind in proportion.
 */
export function mixSequence(mix: RequestKind[]): RequestKind[] {
  const total = mix.reduce((s, k) => s + k.weight, 0);
  const credit = mix.map(() => 0);
  const out: RequestKind[] = [];
  for (let n = 0; n < total; n++) {
    mix.forEach((k, i) => (credit[i] += k.weight));
    let best = 0;
    for (let i = 1; i < mix.length; i++) if (credit[i] > credit[best]) best = i;
    credit[best] -= total;
    out.push(mix[best]);
  }
  return out;
}
