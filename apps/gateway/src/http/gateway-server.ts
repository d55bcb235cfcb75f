import { createServer, type Server } from 'node:http';
import type { Logger } from '@runnel/telemetry';
import type { GatewayMetrics } from '../gateway-metrics';
import { ConnectionGuard, type ConnectionLimits, DEFAULT_CONNECTION_LIMITS, serverTimeouts } from './connection-guard';
import type { GatewayHandler } from './gateway-handler';

export interface GatewayServerOptions {
  handler: GatewayHandler;
  logger: Logger;
  metrics: GatewayMetrics;
  /** HEADERS_TIMEOUT, BODY_TIMEOUT, KEEP_ALIVE_TIMEOUT, MAX_CONNECTIONS. */
  connectionLimits?: ConnectionLimits;
}

/**
 * The standalone gateway's listener: node:http directly (the route set is small and fixed, and a
 * framework's router and middleware chain were the largest cost per request, docs/benchmarks.md),
 * the connection guard for slow and idle clients, and the drain at shutdown.
 */
export class GatewayServer {
  readonly server: Server;
  readonly #opts: GatewayServerOptions;

  constructor(opts: GatewayServerOptions) {
    this.#opts = opts;
    const limits = opts.connectionLimits ?? DEFAULT_CONNECTION_LIMITS;
    this.server = createServer(serverTimeouts(limits), opts.handler.listener);
    // Slow and idle clients: timeouts, a connection cap that closes the longest-idle first, JSON client errors.
    new ConnectionGuard(this.server, limits, (reason) => opts.metrics.rejected.labels(reason).inc());
  }

  get inFlight(): number {
    return this.#opts.handler.admission.inFlight;
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /**
   * Stops taking new runs (503), lets the ones in flight finish until `graceMs`, then aborts what is
   * left and closes the listener. Resolves when every response has ended.
   */
  async drain(graceMs: number): Promise<void> {
    const idle = this.#opts.handler.admission.drain(graceMs, (inFlight) =>
      this.#opts.logger.warn({ inFlight }, 'drain grace period over; cancelling runs still in flight'),
    );
    this.server.closeIdleConnections?.();
    await idle;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
    });
  }
}
