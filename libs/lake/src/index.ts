export * from './records';
export * from './formats';
export * from './object-store';
export * from './lake-objects';
export * from './lake-verifier';
export * from './lake-state';
export * from './current-state';
