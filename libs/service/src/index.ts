export * from './readiness';
export * from './service-lifecycle';
export * from './backoff';
export * from './process-signals';
