export * from './logger';
export { stopTracing, tracingEnabled } from './tracing';
export * from './log-capture';
