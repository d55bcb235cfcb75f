// Lambda (issue 9): gateways with RUNNABLES_MODULE=lambda-runnables.cjs against a bare node:http server
// serving the same runnables, invoke and stream, in interleaved (or, --paired, simultaneous) rounds.
import { isDeepStrictEqual } from 'node:util';
import type { LoadClient } from '../load-client';
import type { BenchOptions } from '../options';
import type { Server } from '../servers';
import { BODY, CRLF, HEADERS, INPUT, LAMBDA_CHUNKS, LAMBDA_ENDPOINTS, LAMBDA_LOADS, type LambdaEndpoint, log } from '../workload';
import { describeCpu, describeRound, roundRatios, type Run, type RunsSummary, summariseEach } from './runs';

/** SSE text -> [{event, data}] (LangServe frames: `event: X\r\ndata: Y\r\n\r\n`; `: ping` comments skipped). */
function parseSse(text: string): { event?: string; data?: unknown }[] {
  return text
    .split(`${CRLF}${CRLF}`)
    .filter((f) => f && !f.startsWith(':'))
    .map((f) => {
      const event = /^event: (.*)$/m.exec(f)?.[1];
      const data = /^data: (.*)$/m.exec(f)?.[1];
      return { event, data: data === undefined ? undefined : JSON.parse(data) };
    });
}

/**
 * Both lambda servers must give the same answers before their speed is compared: invoke's output, and a
 * complete stream (metadata with a run id, LAMBDA_CHUNKS data frames equal across servers, end). Returns
 * the stream's data so the caller can compare the servers.
 */
async function lambdaSanityCheck(server: Server): Promise<{ streamData: unknown[]; streamBytes: number }> {
  const base = `http://127.0.0.1:${server.port}`;
  const inv = await fetch(`${base}${LAMBDA_LOADS.invoke.path}`, { method: 'POST', headers: HEADERS, body: BODY });
  const json = (await inv.json()) as { output?: unknown; metadata?: { run_id?: unknown } };
  if (inv.status !== 200 || !isDeepStrictEqual(json.output, INPUT) || typeof json.metadata?.run_id !== 'string') {
    throw new Error(`${server.name}: unexpected /lambda/invoke reply ${inv.status} ${JSON.stringify(json)}`);
  }
  const st = await fetch(`${base}${LAMBDA_LOADS.stream.path}`, { method: 'POST', headers: HEADERS, body: BODY });
  const text = await st.text();
  const frames = parseSse(text);
  const events = frames.map((f) => f.event).join(',');
  const want = ['metadata', ...Array<string>(LAMBDA_CHUNKS).fill('data'), 'end'].join(',');
  if (st.status !== 200 || !/^text\/event-stream/.test(st.headers.get('content-type') ?? '') || events !== want || typeof (frames[0].data as { run_id?: unknown })?.run_id !== 'string') {
    throw new Error(`${server.name}: incomplete ${LAMBDA_LOADS.stream.path} reply ${st.status} (events ${events}; want ${want}):\n${text.slice(0, 2000)}`);
  }
  if (server.kind === 'gateway') {
    const anon = await fetch(`${base}${LAMBDA_LOADS.stream.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    await anon.arrayBuffer();
    if (anon.status !== 401) throw new Error(`gateway: expected 401 on ${LAMBDA_LOADS.stream.path} without an API key, got ${anon.status}`);
  }
  return { streamData: frames.filter((f) => f.event === 'data').map((f) => f.data), streamBytes: Buffer.byteLength(text) };
}

/** gateway / bare: req/s, and CPU per request inverted (bare µs / gateway µs) so that both read "1.0 = as fast as bare". */
function ratiosOf(g: RunsSummary, b: RunsSummary, gRuns: Run[], bRuns: Run[]) {
  const perRound = roundRatios(gRuns, bRuns);
  return {
    reqPerSec: g.reqPerSec / b.reqPerSec,
    cpu: b.cpuUsPerReq / g.cpuUsPerReq,
    cpuBestRound: b.cpuUsPerReqMin / g.cpuUsPerReqMin,
    reqPerSecRoundMedian: perRound.reqPerSec,
    cpuRoundMedian: perRound.cpu,
    cpuUsPerReqGatewayOverBare: g.cpuUsPerReq / b.cpuUsPerReq,
  };
}
type Ratios = ReturnType<typeof ratiosOf>;

export interface LambdaEndpointResult {
  path: string;
  runs: Record<string, Run[]>;
  summary: Record<string, RunsSummary>;
  ratios: Ratios;
  ratiosBy: Record<string, Ratios>;
}
export type LambdaResult = { streamBytes: { gateway: number; bare: number }; gateways: { name: string; main?: string }[] } & Record<LambdaEndpoint, LambdaEndpointResult>;

/** `gateways[0]` is the gateway under test; any others (--lambda-also) run in the same rounds for comparison. */
export async function lambdaPhase(load: LoadClient, opts: BenchOptions, gateways: Server[], bare: Server): Promise<LambdaResult> {
  const servers = [...gateways, bare];
  const checks = [];
  for (const s of servers) checks.push(await lambdaSanityCheck(s));
  const bareCheck = checks[checks.length - 1];
  for (let i = 0; i < servers.length - 1; i++) {
    if (!isDeepStrictEqual(checks[i].streamData, bareCheck.streamData)) {
      throw new Error(`lambda: ${servers[i].name} and ${bare.name} stream different chunks:\n${JSON.stringify(checks[i].streamData)}\n${JSON.stringify(bareCheck.streamData)}`);
    }
  }
  log(`lambda: the servers answer alike (stream: ${LAMBDA_CHUNKS} data frames + end; ${checks.map((c) => c.streamBytes).join(' / ')} bytes per stream body)`);
  const gateway = gateways[0];
  const out: Partial<LambdaResult> = { streamBytes: { gateway: checks[0].streamBytes, bare: bareCheck.streamBytes }, gateways: gateways.map((g) => ({ name: g.name, main: g.main })) };
  // --paired: every server under load at the same time (the connections split between them), so each
  // round's noise from the rest of the machine falls on all of them alike; otherwise one after another.
  const connections = opts.paired ? Math.max(1, Math.ceil(opts.connections / servers.length)) : opts.connections;
  const each = async (fn: (s: Server) => Promise<Run>): Promise<Run[]> => {
    if (opts.paired) return Promise.all(servers.map(fn));
    const results: Run[] = [];
    for (const s of servers) results.push(await fn(s));
    return results;
  };
  for (const endpoint of LAMBDA_ENDPOINTS) {
    const target = LAMBDA_LOADS[endpoint];
    log(`lambda ${endpoint}: POST ${target.path}, warm-up ${opts.warmup} s per server, ${connections} connections${opts.paired ? ' each, all servers at once (--paired)' : ''}`);
    await each((s) => load.autocannon(s, { duration: opts.warmup, connections, ...target }));
    const runs: Record<string, Run[]> = Object.fromEntries(servers.map((s) => [s.name, []]));
    for (let round = 1; round <= opts.rounds; round++) {
      const results = await each((s) => load.autocannon(s, { duration: opts.duration, connections, ...target }));
      for (const [i, s] of servers.entries()) {
        const r = results[i];
        runs[s.name].push(r);
        log(`lambda ${endpoint}: round ${round} ${s.name.padEnd(14)} ${describeRound(r, 'bad body')}  CPU ${((r.cpu.serverSeconds * 1e6) / r.total).toFixed(0)} us/req  ${describeCpu(r)}`);
      }
    }
    const summary = summariseEach(runs);
    const b = summary[bare.name];
    out[endpoint] = {
      path: target.path,
      runs,
      summary,
      ratios: ratiosOf(summary[gateway.name], b, runs[gateway.name], runs[bare.name]),
      ratiosBy: Object.fromEntries(gateways.map((g) => [g.name, ratiosOf(summary[g.name], b, runs[g.name], runs[bare.name])])),
    };
  }
  return out as LambdaResult;
}
