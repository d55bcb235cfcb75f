import { signals } from './signals'; // first: SIGTERM/SIGINT handled from here on (PID 1 has no default)
import './instrument';
import { loadConfigOrExit } from '@runnel/config';
import { startChangeReader } from './change-reader-app';
import { ChangeReaderConfigSchema } from './config';

const config = loadConfigOrExit('change-reader', ChangeReaderConfigSchema);

if (config) startChangeReader(config, { signals }).catch(signals.startFailed);
