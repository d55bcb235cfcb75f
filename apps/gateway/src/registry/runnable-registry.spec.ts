import { RunnableLambda } from '@langchain/core/runnables';
import { AGENT_ROUTES } from '../agents/http/agent-routes';
import { RouteSetupError } from './resolved-route';
import { RunnableRegistry } from './runnable-registry';

const echo = RunnableLambda.from((x: unknown) => x);

describe('RunnableRegistry.addRoutes: paths the gateway serves itself', () => {
  // Every first segment of the LangGraph Platform API's routes, so that a root added to the table is reserved too.
  const agentRoots = [...new Set(AGENT_ROUTES.map(([, path]) => path.split('/')[1]))].sort();

  it('the agent API roots are exactly ok, info, assistants, threads, runs and store (crons live under /runs and /threads/…/runs)', () => {
    expect(agentRoots).toEqual(['assistants', 'info', 'ok', 'runs', 'store', 'threads']);
  });

  it.each([...agentRoots, 'langgraph', 'health', 'ready', 'metrics', 'docs'])('refuses a runnable at /%s, or under it, naming the path', (root) => {
    const registry = new RunnableRegistry();
    expect(() => registry.addRoutes(echo, { path: root })).toThrow(new RouteSetupError(`Route path "${root}": "/${root}" is served by the gateway itself`));
    expect(() => registry.addRoutes(echo, { path: `/${root}/mine` })).toThrow(`Route path "/${root}/mine": "/${root}" is served by the gateway itself`);
    expect(registry.size).toBe(0);
  });

  it('accepts the same names below another first segment', () => {
    const registry = new RunnableRegistry();
    registry.addRoutes(echo, { path: 'agents/threads' }).addRoutes(echo, { path: 'my-store' });
    expect(registry.paths).toEqual(['agents/threads', 'my-store']);
  });
});
