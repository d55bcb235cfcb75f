import type { Runnable } from '@langchain/core/runnables';
import type { RouteOptions } from '../registry/route-options';
import { EmbeddedGateway, type EmbeddedGatewayOptions } from './embedded-gateway';

/** What addRoutes needs of an app: Express 4/5 apps and routers, connect. */
export interface MiddlewareHost {
  use(handler: EmbeddedGateway['middleware']): unknown;
}

const gateways = new WeakMap<MiddlewareHost, EmbeddedGateway>();

/**
 * LangServe's `add_routes(app, runnable, path=…)` for an Express app: serves the runnable's
 * LangServe endpoints at `/{path}/…` on `app`, beside the app's own routes and after its own
 * middleware (auth, body parsing, a router's prefix). The first call on an app mounts one
 * EmbeddedGateway (`gateway` options apply then; later calls must not pass them) and returns it:
 * its `metricsRegistry`, `drain()` and `protect(server)` are the standalone gateway's.
 */
export function addRoutes(
  app: MiddlewareHost,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  runnable: Runnable<any, any, any>,
  options: RouteOptions & { gateway?: EmbeddedGatewayOptions },
): EmbeddedGateway {
  const { gateway: gatewayOptions, ...route } = options;
  let gateway = gateways.get(app);
  if (!gateway) {
    gateway = new EmbeddedGateway(gatewayOptions);
    gateways.set(app, gateway);
    app.use(gateway.middleware);
  } else if (gatewayOptions) {
    throw new TypeError('addRoutes: `gateway` options are taken on the first call for an app only; this app already has its gateway');
  }
  gateway.addRoutes(runnable, route);
  return gateway;
}
