export * from './secret';
export * from './config-error';
export * from './load-config';
export * from './exit-process';
export * as env from './env-schema';
