/**
 * What tools/ may use of batch-writer (the one entry point the module-boundary rule allows them, as
 * `@runnel/batch-writer/tooling`): its config schema, for the deployment checks and the generated config docs.
 */
export { BatchWriterConfigSchema } from './config';
