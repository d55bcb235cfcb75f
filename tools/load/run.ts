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

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = {}): CliOptions {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const [name, value] = eq > 0 ? [a.slice(2, eq), a.slice(eq + 1)] : [a.slice(2), argv[++i]];
    if (value === undefined) throw new Error(`${a}: missing value`);
    flags[name] = value;
  }
  const known = ['url', 'metrics-url', 'api-key', 'duration', 'rate', 'connections', 'warmup', 'json'];
  for (const f of Object.keys(flags)) if (!known.includes(f)) throw new Error(`unknown option --${f}`);
  if (positional.length !== 1) throw new Error(`expected one scenario: ${Object.keys(SCENARIOS).join(', ')} or all`);
  const name = positional[0];
  if (name !== 'all' && !SCENARIOS[name]) throw new Error(`unknown scenario "${name}" (${Object.keys(SCENARIOS).join(', ')}, all)`);
  const positive = (flag: string) => {
    if (flags[flag] === undefined) return undefined;
    const n = Number(flags[flag]);
    if (!(n > 0)) throw new Error(`--${flag}: expected a positive number`);
    return n;
  };
  return {
    scenarios: name === 'all' ? Object.keys(SCENARIOS) : [name],
    url: flags.url,
    metricsUrl: flags['metrics-url'],
    apiKey: flags['api-key'] ?? env.LOAD_API_KEY,
    durationS: flags.duration === undefined ? undefined : parseDuration(flags.duration),
    rate: positive('rate'),
    connections: positive('connections'),
    warmupS: flags.warmup === undefined ? undefined : flags.warmup === '0' ? 0 : parseDuration(flags.warmup),
    json: flags.json,
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
  let o: CliOptions;
  try {
    o = parseArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`load: ${(err as Error).message}\n`);
    return 2;
  }
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
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`load: ${err.stack ?? err.message}\n`);
      process.exit(2);
    },
  );
}
