import { Counter, Gauge, Histogram, type Registry } from '@runnel/metrics';
import type { RunStatus } from './agent-types';

const RUN_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const REQUEST_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30];

/**
 * The LangGraph Platform API's metrics (`runnel_agent_*`). `graph` is a registered graph id (a
 * bounded set: registered at start); `route` is the API's route name (agents/http/agent-routes.ts).
 */
export class AgentMetrics {
  readonly runsStarted: Counter<'graph'>;
  readonly runsFinished: Counter<'graph' | 'status'>;
  readonly runDuration: Histogram<'graph' | 'status'>;
  readonly queueWait: Histogram<'graph'>;
  readonly requests: Counter<'route' | 'status'>;
  readonly requestDuration: Histogram<'route'>;
  readonly running: Gauge;
  readonly queueDepth: Gauge;

  constructor(registry: Registry, sources: { running: () => number; queueDepth: () => Promise<number> }) {
    const registers = [registry];
    this.runsStarted = new Counter({ name: 'runnel_agent_runs_started_total', help: 'Runs started by this replica (a retried run counts each start)', labelNames: ['graph'], registers });
    this.runsFinished = new Counter({
      name: 'runnel_agent_runs_finished_total',
      help: 'Runs this replica finished, by graph and final status (success, error, interrupted for a rolled-back run)',
      labelNames: ['graph', 'status'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'runnel_agent_run_duration_seconds',
      help: 'Time from a run starting on this replica to its end, by graph and final status',
      labelNames: ['graph', 'status'],
      buckets: RUN_SECONDS,
      registers,
    });
    this.queueWait = new Histogram({
      name: 'runnel_agent_run_queue_wait_seconds',
      help: 'Time a run waited between being created (or due, for after_seconds) and starting',
      labelNames: ['graph'],
      buckets: RUN_SECONDS,
      registers,
    });
    this.requests = new Counter({ name: 'runnel_agent_requests_total', help: 'Agent API requests answered, by route and status (499: the client left)', labelNames: ['route', 'status'], registers });
    this.requestDuration = new Histogram({
      name: 'runnel_agent_request_duration_seconds',
      help: 'Agent API request duration by route (streams and waits last as long as their run)',
      labelNames: ['route'],
      buckets: REQUEST_SECONDS,
      registers,
    });
    this.running = new Gauge({
      name: 'runnel_agent_runs_running',
      help: 'Runs executing on this replica now (at most AGENT_MAX_CONCURRENT_RUNS)',
      registers,
      collect() {
        this.set(sources.running());
      },
    });
    this.queueDepth = new Gauge({
      name: 'runnel_agent_queue_depth',
      help: 'Runs queued and not started, across all replicas (the shared queue), read at scrape',
      registers,
      async collect() {
        try {
          this.set(await sources.queueDepth());
        } catch {
          // Redis unreachable: the last value stays; the queue's own errors are logged elsewhere.
        }
      },
    });
  }

  started(graph: string, createdAt: string): void {
    this.runsStarted.labels(graph).inc();
    this.queueWait.labels(graph).observe(Math.max(0, (Date.now() - Date.parse(createdAt)) / 1000));
  }

  finished(graph: string, status: RunStatus, seconds: number): void {
    this.runsFinished.labels(graph, status).inc();
    this.runDuration.labels(graph, status).observe(seconds);
  }

  answered(route: string, status: number, seconds: number): void {
    this.requests.labels(route, String(status)).inc();
    this.requestDuration.labels(route).observe(seconds);
  }
}
