import { startTracingFromEnv } from '@runnel/telemetry/instrument';

startTracingFromEnv('runnel-s3-uploader');
