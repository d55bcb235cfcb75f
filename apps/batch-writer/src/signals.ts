import { ProcessSignals } from '@runnel/service/process-signals';

/**
 * SIGTERM/SIGINT handlers, installed as this module loads: main.ts imports it before all others,
 * because as a container's PID 1 the service has no default signal action and would ignore a stop
 * for as long as its start-up lasts (ProcessSignals).
 */
export const signals = ProcessSignals.install('batch-writer');
