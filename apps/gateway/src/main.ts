import { signals } from './signals'; // first: SIGTERM/SIGINT handled from here on (PID 1 has no default)
import { disablePretenuring } from './v8-tuning';
import './instrument';
import { loadConfigOrExit } from '@runnel/config';
import { GatewayConfigSchema } from './config';
import { startGateway } from './gateway-app';
import { snapshotProcessEnv } from './process-env';

// Before any request: V8 must not learn to pretenure per-request objects (v8-tuning.ts).
disablePretenuring();
const config = loadConfigOrExit('gateway', GatewayConfigSchema);
// LangChain reads the environment on every call: a plain object from here on (process-env.ts).
snapshotProcessEnv();

if (config) startGateway(config, { signals }).catch(signals.startFailed);
