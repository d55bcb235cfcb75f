import './instrument';
import { exitProcess, loadConfigOrExit } from '@runnel/config';
import { S3UploaderConfigSchema } from './config';
import { startS3Uploader } from './s3-uploader-app';

const config = loadConfigOrExit('s3-uploader', S3UploaderConfigSchema);

if (config) {
  startS3Uploader(config).catch((err: Error) => {
    process.stderr.write(`s3-uploader: failed to start: ${err.message}\n`);
    exitProcess(1);
  });
}
