import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, hostDetector, processDetector } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

let provider: NodeTracerProvider | undefined;
let unregister: (() => void) | undefined;

/**
 * Starts tracing: spans of the HTTP server and client (and the services' own), batched and
 * exported over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT; W3C trace context and baggage propagated.
 * The exporter, sampler, span limits and batch processor read the standard OTEL_* variables
 * themselves (OTEL_EXPORTER_OTLP_*, OTEL_TRACES_SAMPLER[_ARG], OTEL_BSP_*), the resource
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; OTEL_SDK_DISABLED=true turns it off.
 *
 * Built from the tracing SDK's parts rather than @opentelemetry/sdk-node, which brings every
 * exporter and signal (gRPC, protobuf, Zipkin, Prometheus, logs, metrics): ~130 MB more in each
 * image, for traces over OTLP/HTTP that are all Runnel sends.
 *
 * Must run before the modules it instruments are loaded: see instrument.ts.
 */
export function startTracing(serviceName: string): void {
  if (provider || process.env.OTEL_SDK_DISABLED === 'true') return;
  process.env.OTEL_SERVICE_NAME ??= serviceName;
  // service.name comes from OTEL_SERVICE_NAME through envDetector, like OTEL_RESOURCE_ATTRIBUTES.
  const resource = detectResources({ detectors: [envDetector, processDetector, hostDetector] });
  provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
  provider.register();
  unregister = registerInstrumentations({ tracerProvider: provider, instrumentations: [new HttpInstrumentation()] });
}

/** Flushes the spans still batched and stops exporting (at shutdown). */
export async function stopTracing(): Promise<void> {
  const p = provider;
  provider = undefined;
  unregister?.();
  unregister = undefined;
  await p?.shutdown();
}
