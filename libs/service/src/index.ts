export * from './readiness';
export * from './service-lifecycle';
