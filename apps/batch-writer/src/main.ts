import './instrument';
import { exitProcess, loadConfigOrExit } from '@runnel/config';
import { startBatchWriter } from './batch-writer-app';
import { BatchWriterConfigSchema } from './config';

const config = loadConfigOrExit('batch-writer', BatchWriterConfigSchema);

if (config) {
  startBatchWriter(config).catch((err: Error) => {
    process.stderr.write(`batch-writer: failed to start: ${err.message}\n`);
    exitProcess(1);
  });
}
