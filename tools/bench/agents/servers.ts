// The two targets' servers: the built gateway as a child process (the harness's Child, ready when
// /ok answers), and the reference dev server's runner made reachable from the bundled tool.
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Child, freePort, REPO_ROOT, waitForOk } from '@runnel/testing';
import { imageNodeArgs } from '../../docker/image-build-args';
import type { AgentsOptions } from './options';

export const HERE = join(REPO_ROOT, 'tools/bench/agents');

export interface GatewayProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startGateway(opts: AgentsOptions, postgresUri: string, redisUrl: string): Promise<GatewayProcess> {
  if (!existsSync(opts.gatewayMain)) throw new Error(`${opts.gatewayMain} does not exist: build it first (nx run gateway:build)`);
  const port = await freePort();
  const metricsPort = await freePort();
  const given = opts.gatewayNodeArgs;
  const nodeArgs = given === undefined ? imageNodeArgs('gateway') : given === 'none' ? [] : given.split(' ').filter(Boolean);
  if (opts.cpuProf) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${resolve(opts.cpuProf)}`);
  const child = Child.node('gateway', opts.gatewayMain, [], {
    nodeArgs,
    keepBytes: 65_536,
    env: {
      NODE_PATH: join(REPO_ROOT, 'node_modules'),
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      HOST: '127.0.0.1',
      POSTGRES_URI: postgresUri,
      GATEWAY_REDIS_URL: redisUrl,
      LANGGRAPH_JSON: join(HERE, 'langgraph.json'),
      DISABLE_BUILTINS: 'true',
      LOG_LEVEL: 'warn',
      MAX_CONCURRENT_REQUESTS: '10000',
      SHUTDOWN_TIMEOUT: '3',
      ...opts.gatewayEnv,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => void (await child.stop('SIGTERM', 15_000));
  try {
    await waitForOk(`${url}/ok`, child, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid, stop };
}

/**
 * LangGraphReferenceServer spawns `langgraph-reference-runner.mjs` next to its own module; bundled by
 * run-ts.mjs, that module is this bundle (a temp dir). A one-line runner there imports the real one
 * (which resolves tsx and @langchain/langgraph-api from libs/testing, i.e. the repository's node_modules).
 */
export function provideReferenceRunner(): void {
  const shim = join(__dirname, 'langgraph-reference-runner.mjs');
  if (existsSync(shim)) return;
  const real = join(REPO_ROOT, 'libs/testing/src/langgraph-reference-runner.mjs');
  writeFileSync(shim, `await import(${JSON.stringify(pathToFileURL(real).href)});\n`);
}
