import { signals } from './signals'; // first: SIGTERM/SIGINT handled from here on (PID 1 has no default)
import './instrument';
import { loadConfigOrExit } from '@runnel/config';
import { S3UploaderConfigSchema } from './config';
import { startS3Uploader } from './s3-uploader-app';

const config = loadConfigOrExit('s3-uploader', S3UploaderConfigSchema);

if (config) startS3Uploader(config, { signals }).catch(signals.startFailed);
