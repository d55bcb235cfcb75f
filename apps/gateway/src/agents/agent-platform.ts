import { hostname } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import type { Logger } from '@runnel/telemetry';
import type { Secret } from '@runnel/config';
import type { Identity } from '../caller/identity';
import type { InputBounds } from '../protocol/input-bounds';
import type { AgentGraphs } from './graphs/agent-graphs';
import { GraphLoader } from './graphs/graph-loader';
import { AgentApi, type AgentRouteHandlers } from './http/agent-api';
import type { AgentRouteName } from './http/agent-routes';
import { assistantRoutes } from './routes/assistant-routes';
import { metaRoutes } from './routes/meta-routes';
import { runRoutes } from './routes/run-routes';
import { storeRoutes } from './routes/store-routes';
import { threadRoutes } from './routes/thread-routes';
import { cronRoutes } from './routes/cron-routes';
import { CronScheduler } from './crons/cron-scheduler';
import { RunService } from './runs/run-service';
import { LANGGRAPH_VERSION } from './execution/run-stream';
import { RunWorker } from './runs/run-worker';
import { WebhookSender } from './runs/webhook-sender';
import { CronRepository } from './storage/cron-repository';
import { AgentDatabase } from './storage/agent-database';
import { AssistantRepository } from './storage/assistant-repository';
import { RunRepository } from './storage/run-repository';
import { ThreadRepository } from './storage/thread-repository';
import { RunCancellation } from './transport/run-cancellation';
import { RunEventLog } from './transport/run-event-log';
import { RunQueue } from './transport/run-queue';
import { AgentMetrics } from './agent-metrics';
import type { Registry } from '@runnel/metrics';

export interface AgentPlatformOptions {
  graphs: AgentGraphs;
  postgresUri: Secret;
  redisUrl: Secret;
  redisPrefix: string;
  maxConcurrentRuns: number;
  runLockMs: number;
  maxAttempts: number;
  streamRetentionSeconds: number;
  bodyLimit: number;
  logger: Logger;
  registry: Registry;
  admit?: (req: IncomingMessage, res: ServerResponse, route: AgentRouteName) => Promise<Identity | undefined>;
  pingIntervalMs: number;
  inputBounds: InputBounds;
  draining?: () => boolean;
  /** Start this replica's worker (true by default; false: an API-only replica). */
  worker?: boolean;
  /** How often a replica that runs a worker looks for due crons (1 s by default). */
  cronIntervalMs?: number;
  /** Aborted when a signal interrupts the gateway's start-up: the connections close, start-up stops. */
  signal?: AbortSignal;
}

/** The running agent API: its HTTP side (for the gateway handler), its worker, and how it stops. */
export interface AgentPlatform {
  api: AgentApi;
  worker: RunWorker | undefined;
  graphIds: string[];
  /** Stops taking runs, gives running ones `graceMs`, hands the rest back; then closes connections. */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

/** How long one Redis command of a request may take before the request fails with 503. */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;


/**
 * Wires the LangGraph Platform API: PostgreSQL (our tables, LangGraph's PostgresSaver and
 * PostgresStore, migrated under one lock so replicas may start together), Redis (run queue, run
 * streams, cancels), one default assistant per graph, the routes, and this replica's worker.
 */
export async function startAgentPlatform(o: AgentPlatformOptions): Promise<AgentPlatform> {
  // A server that does not answer fails a request after 5 s (a 503), not never.
  const db = new AgentDatabase(o.postgresUri.reveal(), { max: 20, connectionTimeoutMillis: 5_000 });
  // Requests fail fast while Redis is away (a 503, not a hang): commands are retried once and time
  // out. Only the BullMQ worker's own connection waits for Redis forever, as BullMQ requires.
  // disconnectTimeout 100 ms as the pipeline's connections have it (libs/queue redis-connection.ts):
  // a disconnect between reconnect attempts otherwise holds the event loop for 2 s (ioredis' default),
  // which an interrupted start-up (SIGTERM while Redis is down) waits out.
  const base = { enableReadyCheck: true, disconnectTimeout: 100 } as const;
  const requestOptions = { ...base, maxRetriesPerRequest: 1, commandTimeout: REDIS_COMMAND_TIMEOUT_MS } as const;
  const redis = new Redis(o.redisUrl.reveal(), requestOptions);
  const subscriber = new Redis(o.redisUrl.reveal(), { ...base, maxRetriesPerRequest: 1 });
  const queueConnection = new Redis(o.redisUrl.reveal(), requestOptions);
  const bull = new Redis(o.redisUrl.reveal(), { ...base, maxRetriesPerRequest: null });
  const connections = [redis, subscriber, queueConnection, bull];
  for (const c of connections) c.on('error', (err) => o.logger.warn({ err: { message: err.message } }, 'agent API: Redis connection error'));
  // A SIGTERM while PostgreSQL or Redis is not answering yet: stop reconnecting, so the process can end.
  const stopConnecting = () => {
    for (const c of connections) c.disconnect();
    void db.close().catch(() => undefined);
  };
  o.signal?.addEventListener('abort', stopConnecting, { once: true });
  try {
    await db.migrate();
    const { checkpointer, store } = await db.setupCheckpointer();
    const assistants = new AssistantRepository(db.pool, checkpointer);
    const threads = new ThreadRepository(db.pool, checkpointer);
    const runs = new RunRepository(db.pool);
    for (const graphId of o.graphs.ids) await assistants.ensureGraphAssistant(graphId, o.graphs.get(graphId)?.description);
    const graphs = new GraphLoader(o.graphs, checkpointer, store);
    const events = new RunEventLog(redis, subscriber, { prefix: o.redisPrefix, retainSeconds: o.streamRetentionSeconds });
    const cancellation = new RunCancellation(redis, subscriber, { prefix: o.redisPrefix, retainSeconds: o.streamRetentionSeconds });
    const queue = new RunQueue(queueConnection, o.redisPrefix);
    const service = new RunService({ assistants, threads, runs, graphs, queue, events, cancellation, logger: o.logger });
    const crons = new CronRepository(db.pool);
    // Replicas that execute runs also fire crons (an API-only replica only stores them); its runs
    // are created under the tick's idempotency key, see CronScheduler.
    const scheduler =
      o.worker === false
        ? undefined
        : new CronScheduler({
            crons,
            service,
            threads,
            queue,
            logger: o.logger,
            intervalMs: o.cronIntervalMs,
          });
    const webhooks = new WebhookSender({ logger: o.logger });
    const handlers: AgentRouteHandlers = {
      ...metaRoutes({ version: '0.1.0', langgraphVersion: LANGGRAPH_VERSION, crons: () => scheduler?.running ?? false }),
      ...assistantRoutes(assistants, graphs),
      ...threadRoutes({ threads, graphs, busy: async (id) => (await runs.inflight(id)).length > 0 }),
      ...runRoutes({ service, runs, threads }),
      ...storeRoutes(store),
      ...cronRoutes({ crons, assistants, threads, graphs }),
    };
    // The gauge reads the worker made just below (the worker's hooks feed the metrics).
    const holder: { worker?: RunWorker } = {};
    const metrics = new AgentMetrics(o.registry, { running: () => holder.worker?.running ?? 0, queueDepth: () => queue.depth() });
    const api = new AgentApi({
      handlers,
      logger: o.logger,
      bodyLimit: o.bodyLimit,
      admit: o.admit,
      draining: o.draining,
      pingIntervalMs: o.pingIntervalMs,
      inputBounds: o.inputBounds,
      onAnswered: (route, status, seconds) => metrics.answered(route, status, seconds),
    });
    const graphOf = (run: { kwargs: { config: { configurable?: Record<string, unknown> } } }) => String(run.kwargs.config.configurable?.graph_id ?? '');
    const worker =
      o.worker === false
        ? undefined
        : new RunWorker({
            connection: bull,
            prefix: o.redisPrefix,
            concurrency: o.maxConcurrentRuns,
            lockMs: o.runLockMs,
            maxAttempts: o.maxAttempts,
            workerId: `${hostname()}:${process.pid}`,
            runs,
            threads,
            graphs,
            queue,
            events,
            cancellation,
            logger: o.logger,
            onStarted: (run) => metrics.started(graphOf(run), run.created_at),
            onFinished: (run, status, seconds) => metrics.finished(graphOf(run), status, seconds),
            // Sent in the background (WebhookSender): the worker goes on to its next run at once.
            onWebhook: (run, status, outcome) => webhooks.send(run, status, outcome),
          });
    holder.worker = worker;
    worker?.start();
    scheduler?.start();
    const close = async () => {
      await scheduler?.stop();
      await webhooks.drain(0);
      await queue.close().catch(() => undefined);
      await events.close();
      for (const c of connections) c.disconnect();
      await db.close();
    };
    return {
      api,
      worker,
      graphIds: o.graphs.ids,
      drain: async (graceMs) => {
        const started = Date.now();
        await scheduler?.stop();
        await worker?.drain(graceMs);
        // Webhooks of the last runs get what is left of the window (a little at least, 5 s at most).
        await webhooks.drain(Math.min(5_000, Math.max(250, graceMs - (Date.now() - started))));
      },
      close,
    };
  } catch (err) {
    for (const c of connections) c.disconnect();
    await db.close().catch(() => undefined);
    throw err;
  }
}
