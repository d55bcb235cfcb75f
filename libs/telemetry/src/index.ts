export * from './logger';
export { stopTracing, tracingEnabled } from './tracing';
