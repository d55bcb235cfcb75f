/**
 * What tools/ may use of change-reader (the one entry point the module-boundary rule allows them,
 * as `@runnel/change-reader/tooling`): its config schema, for the deployment checks and the
 * generated config docs, and the synthetic source and envelope mapping the pipeline benchmark
 * feeds its bare-BullMQ baseline with (the same events the reader would hand on).
 */
export { ChangeReaderConfigSchema } from './config';
export { toEnvelope } from './change-envelope-mapper';
export { SyntheticSource } from './sources/synthetic-source';
