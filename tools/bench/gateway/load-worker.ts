/**
 * Load generator for the gateway benchmark (tools/bench/gateway/run.ts), its own process (bundled on its
 * own: build.ts bundleChildEntry) so the load never shares an event loop with a server being measured
 * (nor with the orchestrating parent). It answers IPC messages `{ id, type, opts }` with
 * `{ id, ok, result | error }` (load-client.ts is the other side):
 *
 *   autocannon    closed-loop (or autocannon overallRate) load; returns a compact summary
 *   paced         open-loop load at an exact rate with node:http, latencies in microseconds
 *   streams-open  opens N SSE streams and resolves when every one has received its first `event: data`
 *   streams-close destroys every stream opened by streams-open
 *
 * The load generator's CPU for a step is measured from outside (load-client.ts, CpuMeter), so a saturated one shows up.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { autocannon } from '../../load/autocannon';
import type { AutocannonRequestOptions, AutocannonSummary, LatencyStats, PacedOptions, PacedSummary, StreamsClosed, StreamsOpenOptions, StreamsOpened, WorkerRequest } from './load-client';

const handlers: { [K in WorkerRequest['type']]: (opts: never) => Promise<object> } = {
  autocannon: runAutocannon,
  paced: runPaced,
  'streams-open': openStreams,
  'streams-close': closeStreams,
};

// ('message' only fires with an IPC channel, so process.send is there.)
process.on('message', async (msg: WorkerRequest) => {
  const handler = handlers[msg?.type] as ((opts: unknown) => Promise<object>) | undefined;
  if (!handler) return process.send?.({ id: msg?.id, ok: false, error: `unknown request type ${msg?.type}` });
  try {
    const result = await handler(msg.opts ?? {});
    process.send?.({ id: msg.id, ok: true, result });
  } catch (err) {
    process.send?.({ id: msg.id, ok: false, error: (err as Error)?.stack ?? String(err) });
  }
});
process.on('disconnect', () => process.exit(0));

// ---------------------------------------------------------------------------------------------------
// autocannon

async function runAutocannon(opts: AutocannonRequestOptions): Promise<AutocannonSummary> {
  const { url, connections, duration, body, headers, overallRate, expectOutput, expectCount } = opts;
  // expectCount {needle, count}: e.g. an SSE body must hold exactly 8 `event: data` frames (a stream cut short
  // or answered with an error event is a mismatch, not a faster request).
  const countOk = expectCount ? (b: string) => occurrences(b, expectCount.needle) === expectCount.count : () => true;
  const verifyBody = expectOutput || expectCount ? (b: string) => (!expectOutput || b.includes(expectOutput)) && countOk(b) : undefined;
  const result = await autocannon({ url, method: 'POST', connections, duration, body, headers, overallRate: overallRate || undefined, verifyBody, timeout: 10 });
  const l = result.latency;
  return {
    url,
    connections,
    duration: result.duration,
    overallRate: overallRate ?? null,
    reqPerSec: result.requests.average,
    reqPerSecStddev: result.requests.stddev,
    total: result.requests.total,
    latencyMs: { mean: l.mean, p50: l.p50, p90: l.p90, p99: l.p99, p99_9: l.p99_9, max: l.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches ?? 0,
    statusCodes: result.statusCodeStats,
  };
}

function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------------
// Open-loop load at a fixed, evenly spaced rate. Latency is measured per request with hrtime, both from
// the moment the request was written ("service") and from the moment it was scheduled ("scheduled",
// which also counts any lag of this generator, i.e. no coordinated omission).

async function runPaced(opts: PacedOptions): Promise<PacedSummary> {
  const { host, port, path, rate, duration, body, headers, sockets = 64, expectOutput } = opts;
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const total = Math.round(rate * duration);
  const intervalNs = 1e9 / rate;
  const service = new Float64Array(total);
  const scheduled = new Float64Array(total);
  const statuses: Record<string, number> = {};
  let errors = 0;
  let mismatches = 0;
  let done = 0;
  let sent = 0;
  const payload = Buffer.from(body);
  const reqHeaders = { ...headers, 'content-length': String(payload.length) };

  const start = process.hrtime.bigint() + 5_000_000n;
  const startNs = Number(start);

  await new Promise<void>((resolve) => {
    const fire = (i: number, scheduledNs: number) => {
      const t0 = process.hrtime.bigint();
      const req = http.request({ host, port, path, method: 'POST', agent, headers: reqHeaders }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => (text += s));
        res.on('end', () => {
          const t1 = process.hrtime.bigint();
          service[i] = Number(t1 - t0) / 1e6;
          scheduled[i] = (Number(t1) - scheduledNs) / 1e6;
          statuses[res.statusCode!] = (statuses[res.statusCode!] ?? 0) + 1;
          if (expectOutput && !text.includes(expectOutput)) mismatches++;
          if (++done === total) resolve();
        });
      });
      req.on('error', () => {
        errors++;
        service[i] = scheduled[i] = Number.NaN;
        if (++done === total) resolve();
      });
      req.end(payload);
    };
    const tick = () => {
      const now = Number(process.hrtime.bigint());
      while (sent < total) {
        const due = startNs + sent * intervalNs;
        if (due > now) break;
        fire(sent, due);
        sent++;
      }
      if (sent < total) setTimeout(tick, 1);
    };
    setTimeout(tick, 5);
  });
  agent.destroy();

  const elapsedS = (Number(process.hrtime.bigint()) - startNs) / 1e9;
  return { rate, duration, total, achievedRate: total / elapsedS, errors, mismatches, statusCodes: statuses, serviceMs: latencyStats(service), scheduledMs: latencyStats(scheduled) };
}

/** Nearest-rank percentiles of one sorted copy (the series is large: sorted once, not per percentile). */
function latencyStats(values: Float64Array): LatencyStats {
  const v = Array.from(values).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const at = (p: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)] : Number.NaN);
  const mean = v.reduce((a, b) => a + b, 0) / (v.length || 1);
  return { count: v.length, mean, p50: at(50), p90: at(90), p99: at(99), p99_9: at(99.9), max: v[v.length - 1] };
}

// ---------------------------------------------------------------------------------------------------
// Open SSE streams

interface OpenStream {
  req?: http.ClientRequest;
  res?: http.IncomingMessage;
  gotData: boolean;
  done: boolean;
}
let streams: OpenStream[] = [];
let streamAgent: http.Agent | undefined;

async function openStreams(opts: StreamsOpenOptions): Promise<StreamsOpened> {
  const { host, port, path, count, body, headers, window = 200, timeoutMs = 120_000 } = opts;
  if (streams.length) throw new Error(`streams-open: ${streams.length} streams already open`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  streamAgent = agent;
  const payload = Buffer.from(body);
  const reqHeaders = { ...headers, 'content-length': String(payload.length) };
  const t0 = performance.now();
  let next = 0;
  let firstData = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  let inProgress = 0;

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`streams-open: only ${firstData}/${count} streams got their first data event within ${timeoutMs} ms (failed ${failed}: ${JSON.stringify(failures)})`)),
      timeoutMs,
    );
    const settle = () => {
      if (firstData + failed === count) {
        clearTimeout(timer);
        resolve();
      } else launch();
    };
    const fail = (why: string) => {
      failed++;
      failures[why] = (failures[why] ?? 0) + 1;
      inProgress--;
      settle();
    };
    const openOne = () => {
      inProgress++;
      const entry: OpenStream = { req: undefined, res: undefined, gotData: false, done: false };
      const req = http.request({ host, port, path, method: 'POST', agent, headers: reqHeaders }, (res) => {
        entry.res = res;
        if (res.statusCode !== 200) {
          res.resume();
          entry.done = true;
          return fail(`HTTP ${res.statusCode}`);
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => {
          if (entry.gotData) return; // later bytes are pings; ignore them
          buf += s;
          if (buf.includes('event: data')) {
            entry.gotData = true;
            buf = '';
            firstData++;
            inProgress--;
            settle();
          }
        });
        res.on('error', () => {
          // swallowed: an unhandled 'error' would crash the worker
        });
      });
      entry.req = req;
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (entry.done || entry.gotData) return;
        entry.done = true;
        fail(err.code ?? err.message);
      });
      req.end(payload);
      streams.push(entry);
    };
    const launch = () => {
      while (next < count && inProgress < window) {
        next++;
        openOne();
      }
    };
    launch();
  });
  return { requested: count, open: firstData, failed, failures, openMs: performance.now() - t0 };
}

async function closeStreams(): Promise<StreamsClosed> {
  const n = streams.length;
  const t0 = performance.now();
  for (const s of streams) s.req?.destroy();
  streams = [];
  streamAgent?.destroy();
  streamAgent = undefined;
  return { closed: n, closeMs: performance.now() - t0 };
}
