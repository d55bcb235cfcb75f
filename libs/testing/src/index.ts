export * from './free-port';
export * from './redis-server';
export * from './s3-server';
export * from './service-process';
export * from './flaky-proxy';
export * from './redis-cluster';
export * from './mongo';
