/**
 * Tracing on demand. A service's `instrument.ts` calls `startTracingFromEnv` and `main.ts` imports
 * that file first, so the SDK patches modules before any of them load. Without
 * OTEL_EXPORTER_OTLP_ENDPOINT the tracer is never loaded (memory and start-up time saved).
 * Keep every import of ./tracing behind `require` in this file, or the bundle loads it eagerly.
 */
type TracingModule = typeof import('./tracing');
let tracing: TracingModule | undefined;

export function startTracingFromEnv(service: string): void {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return;
  tracing = require('./tracing') as TracingModule;
  tracing.startTracing(process.env.OTEL_SERVICE_NAME ?? service);
}

/** Flushes and stops tracing if it was started; a no-op otherwise. */
export async function stopTracing(): Promise<void> {
  await tracing?.stopTracing();
}
