export * from './logger';
export { stopTracing } from './instrument';
export * from './log-capture';
