import { startTracingFromEnv } from '@runnel/telemetry/instrument';

startTracingFromEnv('runnel-change-reader');
