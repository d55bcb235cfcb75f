export * from './logger';
export { stopTracing, tracingEnabled } from './instrument';
export * from './log-capture';
