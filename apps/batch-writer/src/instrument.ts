import { startTracingFromEnv } from '@runnel/telemetry/instrument';

startTracingFromEnv('runnel-batch-writer');
