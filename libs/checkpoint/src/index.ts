export * from './checkpoint-keys';
export * from './checkpoint-store';
export * from './fenced-error';
export * from './stream-lease';
