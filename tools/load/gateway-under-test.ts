import { randomBytes } from 'node:crypto';
import { freePort, ServiceProcess, waitForOk } from '@runnel/testing';
import { imageNodeArgs } from '../docker/image-build-args';
import type { RssSource } from './rss-sampler';

/** Where to read the gateway's RSS: /proc for a local one, else its /metrics when known; undefined when neither. */
export function rssSource(gateway: Pick<GatewayUnderTest, 'pid' | 'metricsUrl'>): RssSource | undefined {
  if (gateway.pid !== undefined) return { pid: gateway.pid };
  return gateway.metricsUrl ? { metricsUrl: gateway.metricsUrl } : undefined;
}

/** SIGTERM, then SIGKILL after this long: a load run must not leave a service behind. */
export const STOP_GRACE_MS = 8000;

/** The gateway a load test runs against: one this process started, or a remote one given by URL. */
export interface GatewayUnderTest {
  url: string;
  /** Where /metrics and /ready are served, when known. */
  metricsUrl?: string;
  apiKey?: string;
  /** Set for a local gateway (RSS and CPU from /proc). */
  pid?: number;
  describe: string;
  /** The local gateway's output (its last 4,000 characters), for diagnosing a failed run. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts dist/apps/gateway/main.js (built by `npm run load`, or by ensureBuilt when missing) on free
 * loopback ports, API keys on, and waits for /ready. `env` goes on top (e.g. MAX_CONCURRENT_REQUESTS).
 */
export async function startLocalGateway(env: Record<string, string> = {}): Promise<GatewayUnderTest> {
  const port = await freePort();
  const metricsPort = await freePort();
  const apiKey = `load-${randomBytes(12).toString('hex')}`;
  const nodeOptions = imageNodeArgs('gateway').join(' ');
  const proc = new ServiceProcess('gateway', {
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    HOST: '127.0.0.1',
    GATEWAY_API_KEYS: apiKey,
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT: '5',
    NODE_OPTIONS: nodeOptions,
    ...env,
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const pid = proc.pid;
  const gateway: GatewayUnderTest = {
    url: `http://127.0.0.1:${port}`,
    metricsUrl,
    apiKey,
    pid,
    describe: `local gateway pid ${pid} (dist/apps/gateway/main.js, NODE_OPTIONS=${nodeOptions || '(none)'}${Object.keys(env).length ? `, ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''})`,
    output: () => proc.output.slice(-4000),
    stop: async () => void (await proc.stop('SIGTERM', STOP_GRACE_MS)),
  };
  try {
    await waitForOk(`${metricsUrl}/ready`, proc, 30_000);
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  return gateway;
}

/** A gateway somewhere else: nothing is started or stopped; RSS only when its metrics URL is given. */
export function remoteGateway(url: string, opts: { metricsUrl?: string; apiKey?: string }): GatewayUnderTest {
  return {
    url: url.replace(/\/+$/, ''),
    metricsUrl: opts.metricsUrl?.replace(/\/+$/, ''),
    apiKey: opts.apiKey,
    describe: `remote gateway ${url}${opts.metricsUrl ? ` (metrics ${opts.metricsUrl})` : ' (no --metrics-url: RSS not measured)'}`,
    output: () => '',
    stop: async () => undefined,
  };
}
