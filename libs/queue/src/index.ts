export * from './queue-names';
export * from './redis-connection';

export * from './job-payloads';
export * from './body-store';
export * from './pipeline-queues';
export * from './queue-depth';
