import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@runnel/telemetry';
import type { GatewayMetrics } from '../gateway-metrics';
import type { Pinger } from '../protocol/sse-stream';
import type { Endpoint } from '../registry/endpoint';
import type { ResolvedRoute } from '../registry/resolved-route';

/** Everything an endpoint handler needs for one request. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  route: ResolvedRoute;
  endpoint: Endpoint;
  /** Config decoded from a `c/{config_hash}/…` path, if any. */
  hashConfig?: Record<string, unknown>;
  requestId: string;
  /** Aborted when the client disconnects or REQUEST_TIMEOUT passes; handed to the runnable. */
  signal: AbortSignal;
  logger: Logger;
  metrics: GatewayMetrics;
  pinger: Pinger;
  bodyLimit: number;
  /** Whether runnable routes need an API key (the playground page asks for one then). */
  authRequired: boolean;
  /** Base URL path of this runnable as the client addressed it (with the config hash part). */
  basePath: string;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
