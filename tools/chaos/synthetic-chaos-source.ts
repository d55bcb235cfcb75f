import type { ChaosSource } from './chaos-source';

/**
 * change-reader's synthetic source as the chaos run's source: `events` generated events at `rate`
 * per second, counted from event 1 across restarts, so the expected total is known up front.
 */
export function syntheticChaosSource(o: { events: number; rate: number }): ChaosSource {
  return {
    name: 'synthetic',
    replicas: 1,
    scenarios: [],
    start: async () => undefined,
    readerEnv: () => ({
      SOURCE: 'synthetic',
      SYNTHETIC_COUNT: String(o.events),
      SYNTHETIC_RATE: String(o.rate),
      SYNTHETIC_COLLECTIONS: 'orders,customers,products',
      SYNTHETIC_DOC_BYTES: '256',
    }),
    begin: async () => undefined,
    expectedEvents: async () => o.events,
    check: async () => ({ ok: true, lines: [] }),
    stop: async () => undefined,
  };
}
