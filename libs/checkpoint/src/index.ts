export * from './checkpoint-keys';
export * from './checkpoint-store';
export * from './fenced-error';
export * from './lease-term';
export * from './state-errors';
export * from './stream-lease';
export * from './stream-writer';
export * from './resnapshot-requests';
