/**
 * What each Runnel service accepts as environment, for the checks that deployment files (compose,
 * k8s) only set variables a service reads: a misspelt name is otherwise silently ignored.
 */
import { type EnvShape, parseConfig } from '@runnel/config';
// Each service's config schema, through its tooling entry point; nothing ships from tools/.
import { BatchWriterConfigSchema } from '@runnel/batch-writer/tooling';
import { ChangeReaderConfigSchema } from '@runnel/change-reader/tooling';
import { GatewayConfigSchema } from '@runnel/gateway/tooling';
import { S3UploaderConfigSchema } from '@runnel/s3-uploader/tooling';

/** Config schema of each service, by its name (the compose service and the k8s/<directory>). */
export const SERVICE_SCHEMAS: Record<string, EnvShape> = {
  gateway: GatewayConfigSchema,
  'change-reader': ChangeReaderConfigSchema,
  'batch-writer': BatchWriterConfigSchema,
  's3-uploader': S3UploaderConfigSchema,
};

/** Read by Node itself or the OpenTelemetry SDK (libs/telemetry), not by the service's schema. */
export const RUNTIME_ENV = /^(NODE_OPTIONS|NODE_ENV|OTEL_[A-Z0-9_]+)$/;

/** Names the service would ignore. */
export function unknownEnvNames(schema: EnvShape, names: string[]): string[] {
  return names.filter((n) => !Object.hasOwn(schema, n) && !RUNTIME_ENV.test(n));
}

/** Config problems as readable strings ([] = the schema accepts the environment). */
export function configProblems(schema: EnvShape, env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(schema, env);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}
