export * from './object-key';
