import './instrument';
import { exitProcess, loadConfigOrExit } from '@runnel/config';
import { GatewayConfigSchema } from './config';
import { startGateway } from './gateway-app';

const config = loadConfigOrExit('gateway', GatewayConfigSchema);

if (config) {
  startGateway(config).catch((err: Error) => {
    process.stderr.write(`gateway: failed to start: ${err.message}\n`);
    exitProcess(1);
  });
}
