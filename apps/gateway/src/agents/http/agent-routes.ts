/**
 * The LangGraph Platform API's routes (langchain-ai/agent-protocol; the paths
 * `@langchain/langgraph-sdk`'s Client calls), as a pure table: method + path → route name and
 * path parameters. No I/O here; agent-api.ts maps each name to its handler.
 */

export const AGENT_ROUTES = [
  ['GET', '/ok', 'ok'],
  ['GET', '/info', 'info'],

  ['POST', '/assistants', 'assistants.create'],
  ['POST', '/assistants/search', 'assistants.search'],
  ['POST', '/assistants/count', 'assistants.count'],
  ['GET', '/assistants/:assistant_id', 'assistants.get'],
  ['PATCH', '/assistants/:assistant_id', 'assistants.update'],
  ['DELETE', '/assistants/:assistant_id', 'assistants.delete'],
  ['GET', '/assistants/:assistant_id/graph', 'assistants.graph'],
  ['GET', '/assistants/:assistant_id/schemas', 'assistants.schemas'],
  ['GET', '/assistants/:assistant_id/subgraphs', 'assistants.subgraphs'],
  ['GET', '/assistants/:assistant_id/subgraphs/:namespace', 'assistants.subgraphs'],
  ['POST', '/assistants/:assistant_id/versions', 'assistants.versions'],
  ['POST', '/assistants/:assistant_id/latest', 'assistants.latest'],

  ['POST', '/threads', 'threads.create'],
  ['POST', '/threads/search', 'threads.search'],
  ['POST', '/threads/count', 'threads.count'],
  ['GET', '/threads/:thread_id', 'threads.get'],
  ['PATCH', '/threads/:thread_id', 'threads.patch'],
  ['DELETE', '/threads/:thread_id', 'threads.delete'],
  ['POST', '/threads/:thread_id/copy', 'threads.copy'],
  ['GET', '/threads/:thread_id/state', 'threads.state'],
  ['POST', '/threads/:thread_id/state', 'threads.updateState'],
  ['POST', '/threads/:thread_id/state/checkpoint', 'threads.stateAtCheckpointPost'],
  ['GET', '/threads/:thread_id/state/:checkpoint_id', 'threads.stateAtCheckpoint'],
  ['GET', '/threads/:thread_id/history', 'threads.history'],
  ['POST', '/threads/:thread_id/history', 'threads.historyPost'],

  ['POST', '/threads/:thread_id/runs', 'runs.create'],
  ['POST', '/threads/:thread_id/runs/stream', 'runs.stream'],
  ['POST', '/threads/:thread_id/runs/wait', 'runs.wait'],
  ['POST', '/threads/:thread_id/runs/crons', 'crons.createForThread'],
  ['GET', '/threads/:thread_id/runs', 'runs.list'],
  ['GET', '/threads/:thread_id/runs/:run_id', 'runs.get'],
  ['DELETE', '/threads/:thread_id/runs/:run_id', 'runs.delete'],
  ['GET', '/threads/:thread_id/runs/:run_id/join', 'runs.join'],
  ['GET', '/threads/:thread_id/runs/:run_id/stream', 'runs.joinStream'],
  ['POST', '/threads/:thread_id/runs/:run_id/cancel', 'runs.cancel'],

  ['POST', '/runs', 'runs.createStateless'],
  ['POST', '/runs/stream', 'runs.streamStateless'],
  ['POST', '/runs/wait', 'runs.waitStateless'],
  ['POST', '/runs/batch', 'runs.batch'],
  ['POST', '/runs/crons', 'crons.create'],
  ['POST', '/runs/crons/search', 'crons.search'],
  ['POST', '/runs/crons/count', 'crons.count'],
  ['PATCH', '/runs/crons/:cron_id', 'crons.update'],
  ['DELETE', '/runs/crons/:cron_id', 'crons.delete'],
  ['GET', '/runs/:run_id/stream', 'runs.joinStreamStateless'],

  ['PUT', '/store/items', 'store.put'],
  ['GET', '/store/items', 'store.get'],
  ['DELETE', '/store/items', 'store.delete'],
  ['POST', '/store/items/search', 'store.search'],
  ['POST', '/store/namespaces', 'store.namespaces'],
] as const;

export type AgentRouteName = (typeof AGENT_ROUTES)[number][2];

/** The first path segments the agent API owns: a runnable may not be registered under them. */
export const AGENT_PATH_ROOTS: ReadonlySet<string> = new Set(['ok', 'info', 'assistants', 'threads', 'runs', 'store']);

export type AgentRouteMatch =
  | { kind: 'route'; name: AgentRouteName; params: Record<string, string> }
  /** The path exists but not for this method: 405 with Allow. */
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

interface CompiledRoute {
  method: string;
  segments: string[];
  name: AgentRouteName;
}

const COMPILED: readonly CompiledRoute[] = AGENT_ROUTES.map(([method, path, name]) => ({ method, segments: path.slice(1).split('/'), name }));

/**
 * Matches a request path (below BASE_PATH, no query) against the table. Literal segments win over
 * parameters (`/threads/search` is not thread "search"), as in the reference's router.
 */
export function matchAgentRoute(method: string, path: string): AgentRouteMatch {
  const parts = path.replace(/\/+$/, '').slice(1).split('/');
  if (!AGENT_PATH_ROOTS.has(parts[0])) return { kind: 'none' };
  let matches: { route: CompiledRoute; params: Record<string, string> }[] = [];
  let mostLiterals = -1;
  for (const route of COMPILED) {
    if (route.segments.length !== parts.length) continue;
    const params = matchSegments(route.segments, parts);
    if (!params) continue;
    const literals = route.segments.filter((s) => !s.startsWith(':')).length;
    if (literals < mostLiterals) continue;
    if (literals > mostLiterals) {
      mostLiterals = literals;
      matches = [];
    }
    matches.push({ route, params });
  }
  if (matches.length === 0) return { kind: 'none' };
  const hit = matches.find((m) => m.route.method === method);
  if (!hit) return { kind: 'method', allow: [...new Set(matches.map((m) => m.route.method))].sort() };
  return { kind: 'route', name: hit.route.name, params: hit.params };
}

function matchSegments(segments: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = segments[i];
    if (!seg.startsWith(':')) {
      if (seg !== parts[i]) return undefined;
      continue;
    }
    if (parts[i] === '') return undefined;
    try {
      params[seg.slice(1)] = decodeURIComponent(parts[i]);
    } catch {
      return undefined;
    }
  }
  return params;
}
