import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../../caller/identity';
import type { Guard, GuardContext } from '../../http/guard';
import { requestIdOf } from '../../http/response-writer';
import type { Endpoint } from '../../registry/endpoint';
import type { ResolvedRoute } from '../../registry/resolved-route';
import type { AgentRouteName } from './agent-routes';

/**
 * The scope path of the whole LangGraph Platform API: callers' scopes name it as they name a
 * runnable (`langgraph:*`, `langgraph:run`, or `*:*`). Reserved: no runnable may take it.
 */
export const AGENT_SCOPE_PATH = 'langgraph';

/** SSE routes need `stream`, every other route `invoke` (both in the `run` scope group). */
const SSE_ROUTES: ReadonlySet<AgentRouteName> = new Set(['runs.stream', 'runs.streamStateless', 'runs.joinStream', 'runs.joinStreamStateless']);

/** The endpoint an agent route counts as for scopes (and the guards' logs). */
export function scopeEndpointOf(route: AgentRouteName): Endpoint {
  return SSE_ROUTES.has(route) ? 'stream' : 'invoke';
}

/**
 * The gateway's caller guards (authenticate → authorize → per-caller rate limit and concurrency),
 * the same keys, scopes and limits as the runnable routes, run for an agent API request: it is
 * checked as a call of `invoke` (or `stream`) on the runnable path `langgraph`. Returns who called;
 * a refusal is the guard's HttpError (401/403/429/503), answered by the API's error map.
 */
export function agentAdmission(guards: readonly Guard[]) {
  const route = { path: AGENT_SCOPE_PATH } as ResolvedRoute;
  return async (req: IncomingMessage, res: ServerResponse, name: AgentRouteName): Promise<Identity | undefined> => {
    let closers: (() => void)[] | undefined;
    const ctx: GuardContext = {
      req,
      res,
      requestId: requestIdOf(res) ?? '',
      route,
      endpoint: scopeEndpointOf(name),
      configHash: undefined,
      hashConfig: undefined,
      identity: undefined,
      onClose(fn) {
        if (!closers) {
          const list: (() => void)[] = (closers = []);
          res.on('close', () => list.forEach((f) => f()));
        }
        closers.push(fn);
      },
    };
    for (const guard of guards) await guard.check(ctx);
    return ctx.identity;
  };
}
