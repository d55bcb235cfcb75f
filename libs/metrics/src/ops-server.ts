import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type OpsRoute = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface OpsServerOptions {
  registry: Registry;
  port: number;
  host?: string;
  /** Extra GET routes served beside /metrics, e.g. /health and /ready from the service lifecycle. */
  routes?: Record<string, OpsRoute>;
  /**
   * Runs before each scrape, for gauges read from elsewhere (queue depth, checkpoint lag in Redis),
   * so they are current when Prometheus looks, not only when a probe last asked. A failure keeps
   * the last values: the scrape itself still answers.
   */
  beforeScrape?: () => Promise<void>;
}

/**
 * The operations port (METRICS_PORT): /metrics for Prometheus plus whatever routes the service adds.
 * Kept off the traffic port so scrapes and probes neither count as traffic nor compete with it.
 */
export async function startOpsServer({ registry, port, host = '0.0.0.0', routes = {}, beforeScrape }: OpsServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' });
      res.end(JSON.stringify({ detail: 'Method not allowed' }));
      return;
    }
    if (path === '/metrics') {
      (beforeScrape ? beforeScrape().catch(() => undefined) : Promise.resolve())
        .then(() => registry.metrics())
        .then((body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ detail: 'Could not collect metrics' }));
        });
      return;
    }
    const route = routes[path];
    if (route) {
      void route(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ detail: `Not found: ${path}` }));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
