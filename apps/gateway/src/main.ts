import './instrument';
import { loadConfigOrExit } from '@runnel/config';
import { GatewayConfigSchema } from './config';
import { startGateway } from './gateway-app';

const config = loadConfigOrExit('gateway', GatewayConfigSchema);

startGateway(config).catch((err: Error) => {
  process.stderr.write(`gateway: failed to start: ${err.message}\n`);
  process.exit(1);
});
