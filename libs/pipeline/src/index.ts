// What the three pipeline services are made of: their shared config and their runtime (Redis,
// metrics, logger, the ops server and the lifecycle). The queues themselves are @runnel/queue's.
export * from './pipeline-config';
export * from './pipeline-runtime';
