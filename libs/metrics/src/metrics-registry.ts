import { collectDefaultMetrics, Registry } from 'prom-client';

/** A registry per service with the process metrics (CPU, RSS, heap, event-loop lag, GC) on it. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
