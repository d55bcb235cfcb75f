// The harness tests and tools share: processes (started, tracked, stopped by pid), waiting for them,
// what /proc and /metrics say about them, the machine, options and report formatting.
export * from './at-exit';
export * from './child';
export * from './command-line';
export * from './cpu-meter';
export * from './machine-facts';
export * from './pipeline-under-test';
export * from './proc-stats';
export * from './prometheus-text';
export * from './report-format';
export * from './sampler';
export * from './tool-exit';
export * from './wait-for';
export * from './local-server';
