import './instrument';
import { loadConfigOrExit } from '@runnel/config';
import { startBatchWriter } from './batch-writer-app';
import { BatchWriterConfigSchema } from './config';

const config = loadConfigOrExit('batch-writer', BatchWriterConfigSchema);

startBatchWriter(config).catch((err: Error) => {
  process.stderr.write(`batch-writer: failed to start: ${err.message}\n`);
  process.exit(1);
});
