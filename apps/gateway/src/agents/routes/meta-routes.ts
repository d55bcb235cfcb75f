import type { AgentRouteHandlers } from '../http/agent-api';
import { json } from '../http/agent-reply';

export interface ServerInfo {
  version: string;
  langgraphVersion: string;
  /** Whether this replica's cron scheduler runs (`flags.crons`). */
  crons: () => boolean;
}

/** `/ok` and `/info`: what clients (LangGraph Studio among them) probe before anything else. */
export function metaRoutes(info: ServerInfo): AgentRouteHandlers {
  const body = () => ({
    version: info.version,
    langgraph_js_version: info.langgraphVersion,
    context: 'js',
    flags: {
      assistants: true,
      // Unlike the reference dev server, crons are scheduled here (crons/), by replicas that run a worker.
      crons: info.crons(),
      langsmith: false,
      langsmith_tracing_replicas: false,
    },
  });
  return {
    ok: async () => json({ ok: true }),
    info: async () => json(body()),
  };
}
