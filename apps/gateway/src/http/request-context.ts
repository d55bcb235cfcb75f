import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../caller/identity';
import type { Logger } from '@runnel/telemetry';
import type { GatewayMetrics } from '../gateway-metrics';
import type { Pinger } from './sse-pinger';
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
  /** Base URL path of this runnable as the client addressed it (mount prefix, BASE_PATH and config hash part included). */
  basePath: string;
  /** The authenticated caller; undefined when auth is off. */
  identity: Identity | undefined;
}
