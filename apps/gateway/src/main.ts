import { signals } from './signals'; // first: SIGTERM/SIGINT handled from here on (PID 1 has no default)
import './instrument';
import { loadConfigOrExit } from '@runnel/config';
import { GatewayConfigSchema } from './config';
import { startGateway } from './gateway-app';

const config = loadConfigOrExit('gateway', GatewayConfigSchema);

if (config) startGateway(config, { signals }).catch(signals.startFailed);
