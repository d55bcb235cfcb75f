// The agents benchmark's main: backends, the targets, warm-up, the alternating rounds, the report.
// What it measures and every option: options.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@langchain/langgraph-sdk';
import { CommandLine, LangGraphReferenceServer, percentile, PostgresServer, RedisServer, REPO_ROOT, stopChildrenOnExit } from '@runnel/testing';
import { Diagnostics } from './diag';
import { Backends, createThreads, GRAPH_ID, measure, type Measurement, type Target } from './measure';
import { log, OPTION_NAMES, readOptions, scenariosOf } from './options';
import { loadavg, report } from './report';
import { HERE, provideReferenceRunner, startGateway } from './servers';

async function main(): Promise<void> {
  const opts = readOptions(new CommandLine(process.argv.slice(2), process.env, OPTION_NAMES), join(REPO_ROOT, 'dist/apps/gateway/main.js'));
  const started: { stop(): Promise<void> }[] = [];
  try {
    const scenarios = scenariosOf(opts);
    const targets: Target[] = [];

    const [redis, postgres] = await Promise.all([
      RedisServer.start(),
      PostgresServer.start(opts.diag ? { extraArgs: ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track=all'] } : {}),
    ]);
    started.push(redis, postgres);
    const backends = new Backends({ postgres: postgres.pid, redis: redis.pid });
    log(`redis-server pid ${redis.pid} ${redis.url}; postgres pid ${postgres.pid} port ${postgres.port}`);
    let diag: Diagnostics | undefined;
    if (opts.targets.includes('gateway')) {
      const uri = await postgres.createDatabase('bench_agents');
      if (opts.diag) {
        diag = await Diagnostics.connect(uri, redis.url);
        started.push(diag);
      }
      const gw = await startGateway(opts, uri, redis.url);
      started.push(gw);
      log(`gateway pid ${gw.pid} ${gw.url} (${opts.gatewayMain})`);
      targets.push({ name: 'gateway', client: new Client({ apiUrl: gw.url }), pids: { server: gw.pid, postgres: postgres.pid, redis: redis.pid } });
    }
    if (opts.targets.includes('reference')) {
      provideReferenceRunner();
      const ref = await LangGraphReferenceServer.start({ graphs: { [GRAPH_ID]: './trivial-graph.mjs:graph' }, cwd: HERE, logLevel: 'error' });
      started.push(ref);
      log(`reference pid ${ref.pid} ${ref.url}`);
      targets.push({ name: 'reference', client: new Client({ apiUrl: ref.url }), pids: { server: ref.pid } });
    }

    // Warm-up (and a first rate estimate per scenario, to size each measurement's thread pool).
    const rate = new Map<string, number>();
    for (const t of targets) {
      for (const s of scenarios) {
        const threads = await createThreads(t.client, Math.max(20, Math.ceil(400 * opts.warmup)));
        const m = await measure(t, s, threads, backends, { seconds: opts.warmup, minSamples: Math.min(4, threads.length), maxSeconds: opts.warmup * 4, diag });
        rate.set(`${t.name}/${s.key}`, m.runs / m.seconds);
        log(`warm-up ${t.name} ${s.key}: ${m.runs} runs in ${m.seconds.toFixed(1)} s (${(m.runs / m.seconds).toFixed(1)}/s), ${m.errors} errors`);
      }
    }

    const results: Measurement[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const s of scenarios) {
        for (const t of order) {
          const est = rate.get(`${t.name}/${s.key}`) ?? 10;
          const n = Math.max(opts.minSamples + s.concurrency, Math.ceil(est * opts.duration * 3) + s.concurrency * 4);
          const threads = await createThreads(t.client, n);
          const m = await measure(t, s, threads, backends, { seconds: opts.duration, minSamples: opts.minSamples, maxSeconds: opts.maxSeconds, diag });
          rate.set(`${t.name}/${s.key}`, m.runs / m.seconds);
          const exhausted = m.runs + m.errors >= threads.length && m.seconds < opts.duration;
          log(
            `round ${round + 1} ${t.name} ${s.key}: ${m.runs} runs in ${m.seconds.toFixed(1)} s = ${(m.runs / m.seconds).toFixed(1)} runs/s, p50 ${percentile(m.latencies, 50).toFixed(1)} ms, p99 ${percentile(m.latencies, 99).toFixed(1)} ms, ` +
              `server ${((m.cpu.server / m.runs) * 1e6).toFixed(0)} µs/run, other CPU ${m.otherCores.toFixed(2)} cores${exhausted ? ' (thread pool ran out before --duration)' : ''}`,
          );
          if (m.diagnostics) log(`  round trips per run: ${JSON.stringify(m.diagnostics, null, 1)}`);
          log(`  ${t.name} syscalls per run: ${m.sys.readsPerRun.toFixed(1)} reads, ${m.sys.writesPerRun.toFixed(1)} writes`);
          results.push({ target: t.name, scenario: s.key, round: round + 1, loadavg: loadavg(), ...m });
        }
      }
    }

    report(opts, results, scenarios, targets);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ opts, results }, null, 1));
  } finally {
    for (const s of started.reverse()) await s.stop().catch((err) => log('stop failed:', String(err)));
  }
}

// SIGINT, SIGTERM or a failure stop the gateway (SIGTERM, then SIGKILL); Redis, PostgreSQL and the
// reference server are killed as this process exits.
stopChildrenOnExit();
void main().then(() => process.exit(0));
