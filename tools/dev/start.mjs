// `npm start`: the whole platform on embedded defaults, nothing external needed:
//   - the gateway with its built-in runnables (no API key: `chat` uses the local model);
//   - the change-data pipeline: change-reader → batch-writer → s3-uploader, reading the synthetic
//     source (or MongoDB when MONGODB_URI is set), with Redis started locally when none answers at
//     REDIS_URL, and S3 served by s3rver on loopback storing under .data/s3.
// Ctrl-C stops everything gracefully (each service drains), then the embedded servers.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const children = [];
let stopping = false;

const build = spawnSync('nx', ['run-many', '-t', 'build', '--outputStyle=static'], { stdio: 'inherit', env, cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
const answers = (host, port) =>
  new Promise((ok) => {
    const c = createConnection({ host, port }, () => (c.destroy(), ok(true)));
    c.on('error', () => ok(false));
    c.setTimeout(1000, () => (c.destroy(), ok(false)));
  });

function run(name, command, args, extraEnv) {
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, ...extraEnv }, cwd: root });
  children.push({ name, child });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`runnel: ${name} exited (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
  return child;
}

async function stop(code) {
  if (stopping) return;
  stopping = true;
  // Services first (they drain, and need Redis while they do), Redis last.
  const exited = ({ child }) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : undefined);
  const services = children.filter((c) => c.name !== 'redis');
  for (const { child } of services) child.kill('SIGTERM');
  await Promise.all(services.map(exited));
  for (const c of children.filter((c) => c.name === 'redis')) {
    c.child.kill('SIGTERM');
    await exited(c);
  }
  await s3?.close();
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stop(0));

// Redis: the one at REDIS_URL, or a local redis-server with AOF under .data/redis.
let redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  const port = 6379;
  if (await answers('127.0.0.1', port)) redisUrl = `redis://127.0.0.1:${port}`;
  else {
    const dir = join(root, '.data/redis');
    mkdirSync(dir, { recursive: true });
    const redisPort = await freePort();
    run('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', '', '--loglevel', 'warning'], {});
    for (let i = 0; i < 100 && !(await answers('127.0.0.1', redisPort)); i++) await new Promise((r) => setTimeout(r, 50));
    redisUrl = `redis://127.0.0.1:${redisPort}`;
    console.log(`runnel: started redis-server on ${redisUrl} (data in .data/redis)`);
  }
}

// S3: the configured endpoint, or s3rver on loopback storing under .data/s3. `npm start` runs this
// script with --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES,
// and without the flag `npm run lake:verify` fails on any prefix of more than 1,000 objects.
let s3;
const s3Env = {};
if (!process.env.S3_BUCKET) {
  const S3rver = require('s3rver');
  const dir = join(root, '.data/s3');
  mkdirSync(dir, { recursive: true });
  s3 = new S3rver({ port: await freePort(), address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'lake' }] });
  const { port } = await s3.run();
  Object.assign(s3Env, {
    S3_BUCKET: 'lake',
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_CONDITIONAL_WRITES: 'false',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  });
  console.log(`runnel: s3rver on http://127.0.0.1:${port}, bucket "lake", objects under .data/s3`);
}

const node = process.execPath;
const gatewayPort = process.env.PORT ?? '8080';
const pipeline = { REDIS_URL: redisUrl, HOST: '127.0.0.1' };
const ports = { gateway: process.env.METRICS_PORT ?? '9090', reader: '9091', writer: '9092', uploader: '9093' };
run('gateway', node, ['dist/apps/gateway/main.js'], { PORT: gatewayPort, METRICS_PORT: ports.gateway });
run('change-reader', node, ['dist/apps/change-reader/main.js'], {
  ...pipeline,
  METRICS_PORT: ports.reader,
  SYNTHETIC_RATE: process.env.SYNTHETIC_RATE ?? '200',
});
run('batch-writer', node, ['dist/apps/batch-writer/main.js'], { ...pipeline, METRICS_PORT: ports.writer, S3_PREFIX: process.env.S3_PREFIX ?? 'cdc' });
run('s3-uploader', node, ['dist/apps/s3-uploader/main.js'], { ...pipeline, ...s3Env, METRICS_PORT: ports.uploader });

console.log(`
Runnel is up.
  gateway      http://localhost:${gatewayPort}  — try /echo/playground and /chat/playground; metrics on :${ports.gateway}
  pipeline     ${process.env.MONGODB_URI ? 'MongoDB change streams' : 'synthetic change events'} → Redis → S3 (prefix ${process.env.S3_PREFIX ?? 'cdc'}/)
               status: http://localhost:${ports.reader}/ready (reader) :${ports.writer} (writer) :${ports.uploader} (uploader)
  lake check   S3_BUCKET=lake AWS_ENDPOINT_URL_S3=${s3Env.AWS_ENDPOINT_URL_S3 ?? '<your endpoint>'} S3_FORCE_PATH_STYLE=true AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER npm run lake:verify -- cdc/
Ctrl-C stops everything.
`);
