export * from './readiness';
export * from './service-lifecycle';
export * from './backoff';
export * from './delay';
export * from './process-signals';
