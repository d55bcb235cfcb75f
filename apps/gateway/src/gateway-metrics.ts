import { Counter, Gauge, Histogram, type Registry } from '@runnel/metrics';
import { DeferredCounts } from './deferred-counts';
import { histogramSeries, type Observer } from './histogram-series';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

interface EndpointSeries {
  /** runnel_gateway_requests_total by status: pending counts (DeferredCounts entries). */
  readonly statuses: Map<string, { n: number }>;
  duration: Observer | undefined;
  chunks: Observer | undefined;
}

/** The gateway's metrics (prefix runnel_gateway_). Label values come only from registered paths and fixed sets. */
export class GatewayMetrics {
  readonly requests: Counter<'runnable' | 'endpoint' | 'status'>;
  readonly duration: Histogram<'runnable' | 'endpoint'>;
  readonly batchSize: Histogram<'runnable'>;
  readonly streamChunks: Histogram<'runnable' | 'endpoint'>;
  readonly errors: Counter<'type' | 'endpoint'>;
  readonly inFlight: Gauge;
  readonly rejected: Counter<'reason'>;
  readonly llmDuration: Histogram<'provider' | 'model' | 'outcome'>;
  readonly modelFallbacks: Counter<'from' | 'to'>;
  readonly openStreams: Gauge;

  // labels() hashes its arguments on every call: on the request path counts are deferred to the scrape, and
  // histogram series observed through histogramSeries (no label hashing per observation).
  readonly #pendingRequests = new DeferredCounts<'runnable' | 'endpoint' | 'status'>();
  /** Per runnable, per endpoint: its series, found with two lookups of strings the route already holds (no key built per request). */
  readonly #series = new Map<string, Map<string, EndpointSeries>>();
  // The two gauges are read from their owners when scraped rather than inc()/dec()'d per request
  // (four prom-client calls per stream, each hashing its labels).
  readonly #inFlightSources = new Set<() => number>();
  readonly #openStreamSources = new Set<() => number>();

  /** `read` (a handler's runs in flight) is added into runnel_gateway_in_flight at every scrape. */
  addInFlightSource(read: () => number): void {
    this.#inFlightSources.add(read);
  }

  /** `read` (a handler's open SSE responses) is added into runnel_gateway_open_streams at every scrape. */
  addOpenStreamsSource(read: () => number): void {
    this.#openStreamSources.add(read);
  }

  /** Counts one finished request. */
  countRequest(runnable: string, endpoint: string, status: string): void {
    const series = this.#seriesOf(runnable, endpoint);
    let entry = series.statuses.get(status);
    if (entry === undefined) series.statuses.set(status, (entry = this.#pendingRequests.entry(`${runnable}\u0000${endpoint}\u0000${status}`, { runnable, endpoint, status })));
    entry.n++;
  }

  /** countRequest and observeDuration of one finished request, with one lookup of its series. */
  finishRequest(runnable: string, endpoint: string, status: string, seconds: number): void {
    const series = this.#seriesOf(runnable, endpoint);
    let entry = series.statuses.get(status);
    if (entry === undefined) series.statuses.set(status, (entry = this.#pendingRequests.entry(`${runnable}\u0000${endpoint}\u0000${status}`, { runnable, endpoint, status })));
    entry.n++;
    (series.duration ??= histogramSeries(this.duration, { runnable, endpoint })).observe(seconds);
  }

  observeDuration(runnable: string, endpoint: string, seconds: number): void {
    const series = this.#seriesOf(runnable, endpoint);
    (series.duration ??= histogramSeries(this.duration, { runnable, endpoint })).observe(seconds);
  }

  /** Events one streaming request sent. */
  observeStreamChunks(runnable: string, endpoint: string, chunks: number): void {
    const series = this.#seriesOf(runnable, endpoint);
    (series.chunks ??= histogramSeries(this.streamChunks, { runnable, endpoint })).observe(chunks);
  }

  #seriesOf(runnable: string, endpoint: string): EndpointSeries {
    let byEndpoint = this.#series.get(runnable);
    if (byEndpoint === undefined) this.#series.set(runnable, (byEndpoint = new Map()));
    let series = byEndpoint.get(endpoint);
    if (series === undefined) byEndpoint.set(endpoint, (series = { statuses: new Map(), duration: undefined, chunks: undefined }));
    return series;
  }

  constructor(registry: Registry) {
    const registers = [registry];
    const pendingRequests = this.#pendingRequests;
    this.requests = new Counter({
      name: 'runnel_gateway_requests_total',
      help: 'Requests by runnable, endpoint and HTTP status',
      labelNames: ['runnable', 'endpoint', 'status'],
      registers,
      collect() {
        pendingRequests.flushInto(this);
      },
    });
    this.duration = new Histogram({
      name: 'runnel_gateway_request_duration_seconds',
      help: 'Time from request received to response finished',
      labelNames: ['runnable', 'endpoint'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchSize = new Histogram({
      name: 'runnel_gateway_batch_size',
      help: 'Inputs per batch request',
      labelNames: ['runnable'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });
    this.streamChunks = new Histogram({
      name: 'runnel_gateway_stream_chunks',
      help: 'Events sent per streaming request',
      labelNames: ['runnable', 'endpoint'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000],
      registers,
    });
    this.errors = new Counter({
      name: 'runnel_gateway_errors_total',
      help: 'Failed or refused requests by error type (validation, client, auth, rate_limited, overload, draining, unavailable, timeout, cancelled, runnable)',
      labelNames: ['type', 'endpoint'],
      registers,
    });
    const inFlight = this.#inFlightSources;
    const openStreams = this.#openStreamSources;
    this.inFlight = new Gauge({
      name: 'runnel_gateway_in_flight',
      help: 'Requests being served now',
      registers,
      collect() {
        this.set(sumOf(inFlight));
      },
    });
    this.openStreams = new Gauge({
      name: 'runnel_gateway_open_streams',
      help: 'Open SSE responses',
      registers,
      collect() {
        this.set(sumOf(openStreams));
      },
    });
    this.rejected = new Counter({
      name: 'runnel_gateway_rejected_total',
      help: 'Requests refused before running (overload, draining)',
      labelNames: ['reason'],
      registers,
    });
    this.llmDuration = new Histogram({
      name: 'runnel_gateway_llm_duration_seconds',
      help: 'Chat model call time, per attempt',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
      registers,
    });
    this.modelFallbacks = new Counter({
      name: 'runnel_gateway_model_fallbacks_total',
      help: 'Chat calls handed from a failed provider to the next one in CHAT_PROVIDERS',
      labelNames: ['from', 'to'],
      registers,
    });
  }
}

function sumOf(sources: ReadonlySet<() => number>): number {
  let total = 0;
  for (const read of sources) total += read();
  return total;
}
