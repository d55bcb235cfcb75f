import { env, Secret } from '@runnel/config';
import type { z } from 'zod';

/** A postgres:// URL kept as a Secret: it usually carries a password. */
function secretPostgresUrl() {
  return env
    .url({ optional: true, protocols: ['postgres', 'postgresql'] })
    .transform((v) => (v === undefined ? undefined : new Secret(v))) as unknown as z.ZodType<Secret | undefined>;
}

/** The LangGraph Platform API's environment (spread into GatewayConfigSchema). */
export const AgentsConfig = {
  /**
   * PostgreSQL (`postgresql://user:password@host:5432/db`) holding threads, runs, assistants, checkpoints
   * (LangGraph's PostgresSaver) and the store (PostgresStore). Set: the gateway serves the LangGraph Platform
   * API (`/assistants`, `/threads`, `/runs`, `/store`, `/ok`, `/info`) for its graphs, and needs GATEWAY_REDIS_URL
   * (the run queue and run streams). Unset: no agent API. Secret: redacted in logs.
   */
  POSTGRES_URI: secretPostgresUrl(),
  /**
   * A `langgraph.json` (the file `@langchain/langgraph-cli` reads) whose `graphs` map (`{"agent":
   * "./src/agent.ts:graph"}`, paths relative to the file) names the graphs to serve; needs POSTGRES_URI.
   * Graphs can also be added by RUNNABLES_MODULE with `registry.addGraph(graph, { graphId })`.
   */
  LANGGRAPH_JSON: env.optionalStr(),
  /** Runs each gateway replica executes at once; more wait in the queue for any replica with room. */
  AGENT_MAX_CONCURRENT_RUNS: env.int(10, { min: 1, max: 10_000 }),
  /**
   * Seconds a replica's hold on a running run lasts without renewal (it renews every half of it): a replica
   * that dies (kill -9, a lost node) loses its runs to the other replicas after this, and they resume them
   * from their last checkpoint.
   */
  AGENT_RUN_LOCK_TIMEOUT: env.secondsAsMs(30, { min: 1, max: 3_600 }),
  /** Times a run may be started (the first time, and after crashes or shutdowns) before it ends `error`. */
  AGENT_RUN_MAX_ATTEMPTS: env.int(3, { min: 1, max: 100 }),
  /** Seconds a finished run's stream stays readable (joinStream, a late runs.wait) before it expires from Redis. */
  AGENT_STREAM_RETENTION: env.int(3_600, { min: 1, max: 30 * 86_400 }),
  /**
   * Seconds between two looks of a replica's cron scheduler for due crons (replicas that execute runs; each due
   * tick fires one run, whichever replica takes it).
   */
  AGENT_CRON_INTERVAL: env.secondsAsMs(1, { min: 0.05, max: 60 }),
  /** Prefix of every Redis key and BullMQ queue of the agent API (replicas of one deployment share it). */
  AGENT_REDIS_PREFIX: env.str('runnel:agents'),
};
