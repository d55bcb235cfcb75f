import './instrument';
import { exitProcess, loadConfigOrExit } from '@runnel/config';
import { startChangeReader } from './change-reader-app';
import { ChangeReaderConfigSchema } from './config';

const config = loadConfigOrExit('change-reader', ChangeReaderConfigSchema);

if (config) {
  startChangeReader(config).catch((err: Error) => {
    process.stderr.write(`change-reader: failed to start: ${err.message}\n`);
    exitProcess(1);
  });
}
