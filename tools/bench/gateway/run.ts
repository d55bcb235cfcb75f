// The gateway benchmark's main: build, start the load worker, run the phases in order, report.
// What each phase does and every option: options.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { f2, machineFacts, openFilesLimit, procRssMiB, REPO_ROOT, stopChildrenOnExit } from '@runnel/testing';
import { type BuildInfo, buildCommit, buildGateway, bundleChildEntry, bundleEchoRunnable, DEFAULT_GATEWAY_MAIN } from './build';
import { LoadClient } from './load-client';
import { benchCommandLine, readOptions } from './options';
import { type BenchResults, report } from './report';
import { lambdaPhase } from './scenarios/lambda';
import { lambdaProfilePhase, profilePhase } from './scenarios/profile';
import { ratePhase } from './scenarios/rate';
import { streamsPhase } from './scenarios/streams';
import { sanityCheck, throughputPhase } from './scenarios/throughput';
import { gatewayMetrics, type Server, type ServerCode, startBare, startGateway, startLambdaBare, startLambdaGateway, stopServer } from './servers';
import { log, TARGETS } from './workload';

async function main(): Promise<void> {
  const cl = benchCommandLine();
  const opts = readOptions(cl);
  const { redis: _redis, ...machine } = machineFacts();
  const results: BenchResults = {
    machine,
    options: opts,
    startedAt: new Date().toISOString(),
    head: spawnSync('git', ['log', '-1', '--format=%h %s'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout?.trim().slice(0, 100),
    build: { built: false },
  };
  log(`machine: ${JSON.stringify(results.machine)}`);
  const tmp = mkdtempSync(join(os.tmpdir(), 'runnel-bench-gateway-'));
  let gatewayMain = opts.gatewayMain ? resolve(opts.gatewayMain) : DEFAULT_GATEWAY_MAIN;
  if (opts.gatewayCommit) {
    results.build = await buildCommit(opts.gatewayCommit, tmp);
    gatewayMain = results.build.gatewayMain!;
  } else results.build = buildGateway(opts, gatewayMain);
  const code: ServerCode = {
    gatewayMain,
    gatewayNodeArgs: opts.gatewayNodeArgs,
    lambdaBareNodeArgs: opts.lambdaBareNodeArgs,
    echoRunnable: await bundleEchoRunnable(tmp),
    bareServer: await bundleChildEntry('bare-server', tmp),
  };

  // Open files: the stream gateway and the load worker each hold one socket per stream.
  const need = opts.only.has('streams') ? opts.streams + 1024 : 4096;
  const lim = openFilesLimit();
  let nofile: number | undefined;
  if (lim.soft < need) {
    if (lim.hard < need) throw new Error(`ulimit -n is ${lim.soft} (hard ${lim.hard}); ${need} needed for ${opts.streams} streams. Raise the hard limit or lower --streams.`);
    nofile = need;
    log(`open files: soft limit ${lim.soft} < ${need}; raising it to ${need} for the stream gateway and the load worker`);
  }
  results.openFilesLimit = lim;

  const load = new LoadClient(await bundleChildEntry('load-worker', tmp), { NODE_PATH: join(REPO_ROOT, 'node_modules') }, nofile);
  let ratio: number | undefined;
  if (opts.only.has('throughput') || opts.only.has('rate')) {
    const gateway = await startGateway(code, 'gateway');
    const bareLc = await startBare(code, 'bare-langchain', 'langchain');
    const bareEcho = await startBare(code, 'bare-echo', 'echo');
    for (const s of [gateway, bareLc, bareEcho]) await sanityCheck(s);
    log(`servers up: gateway :${gateway.port} (metrics :${gateway.metricsPort}, pid ${gateway.pid}), bare-langchain :${bareLc.port} (pid ${bareLc.pid}), bare-echo :${bareEcho.port} (pid ${bareEcho.pid})`);
    if (opts.only.has('throughput')) {
      results.throughput = await throughputPhase(load, opts, [gateway, bareLc, bareEcho]);
      ratio = results.throughput.ratios.gatewayOverBareLangchain;
    }
    if (opts.only.has('rate')) results.rate = await ratePhase(load, opts, gateway, bareLc, [bareLc, bareEcho]);
    const m = await gatewayMetrics(gateway);
    results.gatewayMetricsAfterLoad = { rssMiB: procRssMiB(gateway.pid), inFlight: m.runnel_gateway_in_flight };
    await Promise.all([gateway, bareLc, bareEcho].map((c) => stopServer(c)));
  }
  let lambdaRatio: number | undefined;
  if (opts.only.has('lambda')) {
    const gateways: Server[] = [{ ...(await startLambdaGateway(code, 'gateway-lambda')), main: results.build.subject ?? gatewayMain }];
    // A comma-separated list gives several gateways (e.g. each commit of a series) in the same rounds.
    for (const [i, spec] of (opts.lambdaAlso ? opts.lambdaAlso.split(',').map((x) => x.trim()).filter(Boolean) : []).entries()) {
      const file = spec.endsWith('.js') && existsSync(resolve(spec)) ? resolve(spec) : undefined;
      const also: BuildInfo & { gatewayMain: string; subject: string } = file ? { built: false, gatewayMain: file, subject: file } : await buildCommit(spec, tmp);
      // The profile phase (--profile) takes the first one.
      results.lambdaAlsoBuild ??= also;
      const name = file ? `gateway-also${i ? i + 1 : ''}` : `gateway@${also.commit!.slice(0, 7)}`;
      gateways.push({ ...(await startLambdaGateway(code, name, { main: also.gatewayMain })), main: also.subject });
    }
    const bare = await startLambdaBare(code, 'bare-lambda');
    log(`lambda servers up: ${gateways.map((g) => `${g.name} :${g.port} (pid ${g.pid})`).join(', ')}, bare-lambda :${bare.port} (pid ${bare.pid})`);
    results.lambda = await lambdaPhase(load, opts, gateways, bare);
    lambdaRatio = Math.min(results.lambda.invoke.ratios.reqPerSec, results.lambda.stream.ratios.reqPerSec);
    await Promise.all([...gateways, bare].map((c) => stopServer(c)));
  }
  if (opts.only.has('streams')) results.streams = await streamsPhase(load, code, opts.streams, nofile);

  // echo: as before (the profile phase in --only, and --profile or below target), but not for a lambda-only run.
  // lambda: after the lambda phase, with --profile, or below target when the profile phase is in --only.
  const below = (x: number | undefined) => x !== undefined && x < TARGETS.ratio;
  const forced = opts.profile === 'always';
  const auto = opts.profile === 'auto';
  if (opts.only.has('profile') && (forced || (auto && below(ratio))) && (opts.only.has('throughput') || !opts.only.has('lambda'))) {
    log(forced ? 'profile: --profile given' : `profile: gateway at ${f2(ratio!)}x bare LangChain (< ${TARGETS.ratio}x); profiling`);
    results.profile = await profilePhase(load, opts, code, tmp);
  }
  if (results.lambda && (forced || (auto && opts.only.has('profile') && below(lambdaRatio)))) {
    log(forced ? 'profile (lambda): --profile given' : `profile (lambda): gateway at ${f2(lambdaRatio!)}x bare node:http (< ${TARGETS.ratio}x); profiling`);
    results.lambdaProfile = await lambdaProfilePhase(load, opts, code, tmp, results.lambdaAlsoBuild);
  }

  await load.stop();
  results.finishedAt = new Date().toISOString();
  results.loadAvgAtEnd = os.loadavg();
  process.stdout.write(`${report(results, opts, cl.argv)}\n`);
  const jsonFile = join(tmp, 'results.json');
  writeFileSync(jsonFile, JSON.stringify(results, null, 2));
  if (opts.json) writeFileSync(resolve(opts.json), JSON.stringify(results, null, 2));
  process.stdout.write(`\nResults JSON: ${jsonFile}${opts.json ? ` and ${resolve(opts.json)}` : ''}${results.profile || results.lambdaProfile ? `; CPU profiles under ${tmp}` : ''}\n`);
}

// SIGINT, SIGTERM or a failure stop every server and the load worker (SIGTERM, then SIGKILL) before exiting.
stopChildrenOnExit();
void main().then(() => process.exit(0));
