// The servers under test, each a child process on free loopback ports (the harness's Child: tracked by
// pid, its output kept, SIGTERM then SIGKILL, killed if the bench exits first): the gateway, and the
// bare node:http servers (bare-server.ts) that serve the same runnables with nothing around them.
import { join } from 'node:path';
import { Child, freePort, REPO_ROOT, type Sample, scrape, waitForPort } from '@runnel/testing';
import { API_KEY, HOLD_MODULE, LAMBDA_CHUNKS, LAMBDA_MODULE } from './workload';

export type ServerKind = 'gateway' | 'langchain' | 'echo' | 'lambda' | 'hold-stream';

export interface Server {
  name: string;
  kind: ServerKind;
  child: Child;
  pid: number;
  port: number;
  /** The gateway's metrics server. */
  metricsPort?: number;
  /** Which gateway build it runs (the lambda phase's --lambda-also). */
  main?: string;
}

export interface ServerOptions {
  env?: Record<string, string | undefined>;
  nodeArgs?: string[];
  nofile?: number;
}

/** Where the servers' code is: the gateway bundle and its flags, the bare server and EchoRunnable bundles. */
export interface ServerCode {
  gatewayMain: string;
  gatewayNodeArgs: string[];
  lambdaBareNodeArgs: string[];
  bareServer: string;
  echoRunnable: string;
}

const NODE_PATH = join(REPO_ROOT, 'node_modules');

export async function startGateway(code: ServerCode, name: string, { env = {}, nodeArgs = [], nofile, main = code.gatewayMain }: ServerOptions & { main?: string } = {}): Promise<Server> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = Child.node(name, main, [], {
    nodeArgs: [...code.gatewayNodeArgs, ...nodeArgs],
    nofile,
    env: {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      GATEWAY_API_KEYS: API_KEY,
      LOG_LEVEL: 'warn',
      MAX_CONCURRENT_REQUESTS: '10000',
      SHUTDOWN_TIMEOUT: '3',
      // only matters for a --gateway-main copy outside the repository
      NODE_PATH,
      ...env,
    },
  });
  await waitForPort(port, child);
  await waitForPort(metricsPort, child);
  return { name, kind: 'gateway', child, pid: child.pid, port, metricsPort };
}

export async function startBare(code: ServerCode, name: string, mode: Exclude<ServerKind, 'gateway'>, { nodeArgs = [], nofile, env = {} }: ServerOptions = {}): Promise<Server> {
  const port = await freePort();
  const child = Child.node(name, code.bareServer, [mode], {
    nodeArgs,
    nofile,
    env: { PORT: String(port), HOST: '127.0.0.1', ECHO_RUNNABLE_BUNDLE: code.echoRunnable, NODE_PATH, ...env },
  });
  await waitForPort(port, child);
  return { name, kind: mode, child, pid: child.pid, port };
}

export function startLambdaGateway(code: ServerCode, name: string, { nodeArgs = [], main }: { nodeArgs?: string[]; main?: string } = {}): Promise<Server> {
  return startGateway(code, name, { nodeArgs, main, env: { RUNNABLES_MODULE: LAMBDA_MODULE, LAMBDA_CHUNKS: String(LAMBDA_CHUNKS) } });
}

// The lambda control runs with the gateway's node flags (by default the image's NODE_OPTIONS, e.g. a smaller
// young generation), so the two differ in server code only; --lambda-bare-node-args="" gives it V8's defaults.
export function startLambdaBare(code: ServerCode, name: string, { nodeArgs = [] }: { nodeArgs?: string[] } = {}): Promise<Server> {
  return startBare(code, name, 'lambda', { nodeArgs: [...code.lambdaBareNodeArgs, ...nodeArgs], env: { RUNNABLES_MODULE: LAMBDA_MODULE, LAMBDA_CHUNKS: String(LAMBDA_CHUNKS) } });
}

export function startHoldGateway(code: ServerCode, name: string, streams: number, nofile?: number): Promise<Server> {
  return startGateway(code, name, { nofile, env: { RUNNABLES_MODULE: HOLD_MODULE, HOLD_SECONDS: '600', MAX_CONCURRENT_REQUESTS: String(Math.max(10_000, streams + 1000)) } });
}

export function startHoldBare(code: ServerCode, name: string, nofile?: number): Promise<Server> {
  return startBare(code, name, 'hold-stream', { nofile, env: { RUNNABLES_MODULE: HOLD_MODULE, HOLD_SECONDS: '600' } });
}

export async function stopServer(server: Server, graceMs = 5000): Promise<void> {
  await server.child.stop('SIGTERM', graceMs);
}

/**
 * Metrics by series: each name's first series, and every labelled series without the service label
 * under `name{labels}` (e.g. nodejs_gc_duration_seconds_sum{kind="major"}).
 */
export function bySeries(samples: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (!(s.name in out)) out[s.name] = s.value;
    const labels = Object.entries(s.labels).filter(([k]) => k !== 'service');
    if (labels.length) out[`${s.name}{${labels.map(([k, v]) => `${k}="${v}"`).join(',')}}`] = s.value;
  }
  return out;
}

/** The gateway's /metrics, bySeries. */
export async function gatewayMetrics(server: Server): Promise<Record<string, number>> {
  return bySeries(await scrape(`http://127.0.0.1:${server.metricsPort}`));
}
