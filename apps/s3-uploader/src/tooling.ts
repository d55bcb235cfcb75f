/**
 * What tools/ may use of s3-uploader (the one entry point the module-boundary rule allows them, as
 * `@runnel/s3-uploader/tooling`): its config schema, for the deployment checks and the generated config docs.
 */
export { S3UploaderConfigSchema } from './config';
