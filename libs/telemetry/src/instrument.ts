/**
 * Starts tracing when OTEL_EXPORTER_OTLP_ENDPOINT is set. A service's `instrument.ts` calls this and
 * `main.ts` imports that file first, so the SDK patches modules before any of them load. Without
 * an endpoint nothing is loaded: the SDK costs start-up time and memory for no benefit.
 */
export function startTracingFromEnv(service: string): void {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return;
  (require('./tracing') as typeof import('./tracing')).startTracing(process.env.OTEL_SERVICE_NAME ?? service);
}
