import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../caller/identity';
import type { Endpoint } from '../registry/endpoint';
import type { ResolvedRoute } from '../registry/resolved-route';

/** What a guard sees of one request to a runnable route, after routing and before the run. */
export interface GuardContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly route: ResolvedRoute;
  readonly endpoint: Endpoint;
  /** The still-encoded `{hash}` of a `…/c/{hash}/…` path. */
  readonly configHash: string | undefined;
  /** The config decoded from it, set by the config hash guard. */
  hashConfig: Record<string, unknown> | undefined;
  /** Set by the authenticate guard; undefined when no credentials are configured (auth off). */
  identity: Identity | undefined;
  /** Runs once when the response closes, finished or aborted: where a guard releases what it took. */
  onClose(fn: () => void): void;
}

/**
 * One check a request passes before its run starts. A guard refuses by throwing an HttpError; the
 * gateway's one error-to-response map answers it. Guards run in the order GatewayHandler lists
 * them (method → caller guards → config hash → body → draining → admission), each at most once.
 */
export interface Guard {
  readonly name: string;
  check(ctx: GuardContext): void | Promise<void>;
}
