import type { Endpoint } from '../registry/endpoint';
import type { RequestContext } from './request-context';

/** One served endpoint: the method it answers and the handler that runs it. */
export interface EndpointHandler {
  readonly method: 'GET' | 'POST';
  /** Served without credentials: pages that hold no data (the page then sends the caller's key on its own calls). */
  readonly public?: boolean;
  run(ctx: RequestContext): Promise<void>;
}

export type EndpointTable = Readonly<Record<Exclude<Endpoint, 'config_hashes'>, EndpointHandler>>;
