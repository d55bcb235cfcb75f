import { parseConfig, secretValues } from '@runnel/config';
import { createLogCapture, createLogger } from '@runnel/telemetry';
import { GatewayConfigSchema } from '../src/config';
import { type GatewayApp, type GatewayAppOptions, startGateway } from '../src/gateway-app';

export interface TestGateway {
  app: GatewayApp;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  metricsUrl: string;
  /** Log lines the gateway wrote, parsed. */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Starts a real gateway in this process on free loopback ports, with the given environment on top
 * of test defaults. Logs are captured (not printed) so tests can assert on them.
 */
export async function startTestGateway(env: Record<string, string> = {}, options: Omit<GatewayAppOptions, 'logger'> = {}): Promise<TestGateway> {
  const config = parseConfig(GatewayConfigSchema, { PORT: '0', METRICS_PORT: '0', HOST: '127.0.0.1', ...env });
  const { destination, lines: logs } = createLogCapture();
  const logger = createLogger({ service: 'gateway', level: env.LOG_LEVEL ?? 'info', destination, secrets: secretValues(config) });
  const app = await startGateway(config, { handleProcessEvents: false, exit: () => undefined, ...options, logger });
  return {
    app,
    url: `http://127.0.0.1:${app.port}`,
    metricsUrl: `http://127.0.0.1:${app.metricsPort}`,
    logs,
    close: () => app.lifecycle.shutdown(0),
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
