import { signals } from './signals'; // first: SIGTERM/SIGINT handled from here on (PID 1 has no default)
import './instrument';
import { loadConfigOrExit } from '@runnel/config';
import { startBatchWriter } from './batch-writer-app';
import { BatchWriterConfigSchema } from './config';

const config = loadConfigOrExit('batch-writer', BatchWriterConfigSchema);

if (config) startBatchWriter(config, { signals }).catch(signals.startFailed);
