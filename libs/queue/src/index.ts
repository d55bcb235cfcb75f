export * from './queue-names';
export * from './redis-connection';
export * from './change-event';
export * from './job-payloads';
