export * from './secret';
export * from './config-error';
export * from './load-config';
export * as env from './env-schema';
