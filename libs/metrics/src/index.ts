export * from './metrics-registry';
export * from './ops-server';
export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export * from './pipeline-metrics';
