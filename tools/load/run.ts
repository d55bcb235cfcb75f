/**
 * Load tests: npm run load -- <scenario|all> [options]
 *
 * Scenarios (tools/load/scenarios.ts): basic-invoke, streaming, batch, mixed-workload, 10m-requests-day
 * (the soak: 116 req/s, default 60 s; `--duration 10m` for a longer one), pipeline-soak; `all` runs each.
 * HTTP scenarios start a built gateway on free loopback ports (and stop it) unless --url is given.
 * Pass criteria are printed and enforced: exit 0 only when every criterion of every scenario passes,
 * 1 when one fails, 2 when a run could not be done.
 *
 * Options:
 *   --url URL           gateway to load instead of a local one (e.g. http://gateway:8080)
 *   --metrics-url URL   its metrics server (RSS from process_resident_memory_bytes, request counts)
 *   --api-key KEY       API key for --url (or env LOAD_API_KEY; never printed)
 *   --duration D        measured time: 30, 30s, 10m, 1h (per scenario default otherwise)
 *   --rate N            req/s (HTTP) or events/s (pipeline-soak)
 *   --connections N     autocannon connections (HTTP)
 *   --warmup D          warm-up before measuring (HTTP)
 *   --json PATH         also write every report as JSON
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CommandLine, OptionError, runToolMain, stopChildrenOnExit } from '@runnel/testing';
import { type GatewayUnderTest, remoteGateway, startLocalGateway } from './gateway-under-test';
import { type HttpReport, runHttpScenario } from './http-load';
import { type PipelineReport, runPipelineSoak } from './pipeline-soak';
import { formatHttpReport, formatPipelineReport } from './report';
import { parseDuration, SCENARIOS } from './scenarios';

export interface CliOptions {
  scenarios: string[];
  url?: string;
  metricsUrl?: string;
  apiKey?: string;
  durationS?: number;
  rate?: number;
  connections?: number;
  warmupS?: number;
  json?: string;
}

const OPTIONS = ['url', 'metrics-url', 'api-key', 'duration', 'rate', 'connections', 'warmup', 'json'];

/** The options, each `--name value` or `--name=value`; an unknown one is refused. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = {}): CliOptions {
  const cl = new CommandLine(argv, env, { values: OPTIONS });
  if (cl.positional.length !== 1) throw new OptionError(`expected one scenario: ${Object.keys(SCENARIOS).join(', ')} or all`);
  const name = cl.positional[0];
  if (name !== 'all' && !SCENARIOS[name]) throw new OptionError(`unknown scenario "${name}" (${Object.keys(SCENARIOS).join(', ')}, all)`);
  const positive = (flag: string) => (cl.option(flag) === undefined ? undefined : cl.number(flag, undefined, 1));
  const duration = cl.option('duration');
  const warmup = cl.option('warmup');
  return {
    scenarios: name === 'all' ? Object.keys(SCENARIOS) : [name],
    url: cl.option('url'),
    metricsUrl: cl.option('metrics-url'),
    apiKey: cl.option('api-key', 'LOAD_API_KEY'),
    durationS: duration === undefined ? undefined : parseDuration(duration),
    rate: positive('rate'),
    connections: positive('connections'),
    warmupS: warmup === undefined ? undefined : warmup === '0' ? 0 : parseDuration(warmup),
    json: cl.option('json'),
  };
}

const log = (line: string) => process.stdout.write(`[load] ${line}\n`);

export async function runScenario(name: string, o: CliOptions): Promise<HttpReport | PipelineReport> {
  const scenario = SCENARIOS[name];
  if (scenario.kind === 'pipeline') {
    return runPipelineSoak(scenario, { rate: o.rate ?? scenario.rate, durationS: o.durationS ?? scenario.durationS, sampleEveryS: scenario.sampleEveryS }, log);
  }
  const gateway: GatewayUnderTest = o.url ? remoteGateway(o.url, { metricsUrl: o.metricsUrl, apiKey: o.apiKey }) : await startLocalGateway(scenario.gatewayEnv);
  try {
    log(`${name}: ${gateway.describe}`);
    return await runHttpScenario(
      scenario,
      gateway,
      {
        rate: o.rate ?? scenario.rate,
        connections: o.connections ?? scenario.connections,
        durationS: o.durationS ?? scenario.durationS,
        warmupS: o.warmupS ?? scenario.warmupS,
      },
      log,
    );
  } catch (err) {
    const out = gateway.output();
    throw new Error(`${(err as Error).message}${out ? `\ngateway output:\n${out}` : ''}`);
  } finally {
    await gateway.stop();
  }
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2), process.env);
  const reports: (HttpReport | PipelineReport)[] = [];
  for (const name of o.scenarios) {
    const report = await runScenario(name, o);
    reports.push(report);
    process.stdout.write(`\n${report.kind === 'http' ? formatHttpReport(report) : formatPipelineReport(report)}\n\n`);
  }
  if (o.json) writeFileSync(resolve(o.json), JSON.stringify(reports, null, 2));
  const failed = reports.filter((r) => !r.pass).map((r) => r.scenario);
  process.stdout.write(failed.length ? `RESULT: FAIL (${failed.join(', ')})\n` : `RESULT: PASS (${reports.map((r) => r.scenario).join(', ')})\n`);
  return failed.length ? 1 : 0;
}

if (require.main === module) {
  // SIGINT or SIGTERM stop the local gateway (SIGTERM, then SIGKILL) before exiting.
  stopChildrenOnExit();
  runToolMain('load', main, { failCode: 2, stack: true });
}
