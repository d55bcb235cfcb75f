import './instrument';
import { loadConfigOrExit } from '@runnel/config';
import { startChangeReader } from './change-reader-app';
import { ChangeReaderConfigSchema } from './config';

const config = loadConfigOrExit('change-reader', ChangeReaderConfigSchema);

startChangeReader(config).catch((err: Error) => {
  process.stderr.write(`change-reader: failed to start: ${err.message}\n`);
  process.exit(1);
});
