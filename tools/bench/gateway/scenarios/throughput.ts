// Throughput: the same body POSTed to each server's /echo/invoke with the same connections and
// duration; a warm-up first, then the servers interleaved for --rounds rounds (A B C A B C ...).
import { isDeepStrictEqual } from 'node:util';
import type { LoadClient } from '../load-client';
import type { BenchOptions } from '../options';
import type { Server } from '../servers';
import { BODY, HEADERS, INPUT, log } from '../workload';
import { describeCpu, describeRound, type Run, summariseEach } from './runs';

/** Each server answers /echo/invoke right (the bare LangChain one and the gateway with run metadata); the gateway refuses a request without a key. */
export async function sanityCheck(server: Server): Promise<void> {
  const url = `http://127.0.0.1:${server.port}/echo/invoke`;
  const res = await fetch(url, { method: 'POST', headers: HEADERS, body: BODY });
  const json = (await res.json()) as { output?: unknown; metadata?: { run_id?: unknown; feedback_tokens?: unknown } };
  if (res.status !== 200 || !isDeepStrictEqual(json.output, INPUT)) {
    throw new Error(`${server.name}: unexpected reply ${res.status} ${JSON.stringify(json)}`);
  }
  if (server.kind !== 'echo' && (typeof json.metadata?.run_id !== 'string' || !Array.isArray(json.metadata?.feedback_tokens))) {
    throw new Error(`${server.name}: reply lacks metadata.run_id/feedback_tokens: ${JSON.stringify(json)}`);
  }
  if (server.kind === 'gateway') {
    const anon = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    await anon.arrayBuffer();
    if (anon.status !== 401) throw new Error(`gateway: expected 401 without an API key, got ${anon.status}`);
  }
}

/** `servers`: the gateway, bare-langchain and bare-echo, in that order. */
export async function throughputPhase(load: LoadClient, opts: BenchOptions, servers: Server[]) {
  log(`throughput: warm-up ${opts.warmup} s per server, ${opts.connections} connections`);
  for (const s of servers) await load.autocannon(s, { duration: opts.warmup, connections: opts.connections });
  const runs: Record<string, Run[]> = Object.fromEntries(servers.map((s) => [s.name, []]));
  for (let round = 1; round <= opts.rounds; round++) {
    for (const s of servers) {
      const r = await load.autocannon(s, { duration: opts.duration, connections: opts.connections });
      runs[s.name].push(r);
      log(`throughput: round ${round} ${s.name.padEnd(14)} ${describeRound(r, 'mismatches')}  ${describeCpu(r)}`);
    }
  }
  const summary = summariseEach(runs);
  const g = summary.gateway.reqPerSec;
  const l = summary['bare-langchain'].reqPerSec;
  const e = summary['bare-echo'].reqPerSec;
  const cpu = (k: string) => summary[k].cpuUsPerReq;
  return {
    runs,
    summary,
    ratios: {
      gatewayOverBareLangchain: g / l,
      bareLangchainOverBareEcho: l / e,
      gatewayOverBareEcho: g / e,
      // the same ratios from server CPU per request (bare / gateway): what throughput would be with a core each
      cpuGatewayOverBareLangchain: cpu('bare-langchain') / cpu('gateway'),
      cpuBareLangchainOverBareEcho: cpu('bare-echo') / cpu('bare-langchain'),
    },
  };
}
export type ThroughputResult = Awaited<ReturnType<typeof throughputPhase>>;
