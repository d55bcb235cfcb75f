// `npm start`: the whole platform on embedded defaults, nothing external needed:
//   - the gateway with its built-in runnables (no API key: `chat` uses the local model), its agents
//     on the PostgreSQL at POSTGRES_URI, or else on a local PostgreSQL (Debian's) with its data in .data/postgres;
//   - the change-data pipeline: change-reader → batch-writer → s3-uploader, with Redis started locally
//     when none answers at REDIS_URL, and S3 served by s3rver on loopback storing under .data/s3.
//     Its source, by the first that applies:
//       MONGODB_URI set        that MongoDB, through the real driver (nothing is written to it);
//       SOURCE=synthetic       the reader's generated events (no MongoDB at all; benchmarks use it);
//       otherwise              the MongoDB stand-in of libs/testing on a free loopback port, read through
//                              the real driver, with a small workload writer (tools/mongo) inserting,
//                              updating, replacing and deleting documents in database `shop`.
// Ctrl-C stops everything gracefully, in order: the writer, the services (each drains), the stand-in,
// PostgreSQL, Redis, s3rver. The children run in their own process groups so that the terminal's Ctrl-C reaches
// only this script, which then stops them in that order.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const root = resolve(import.meta.dirname, '../..');
const require = createRequire(import.meta.url);
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
/** @typedef {'writer' | 'service' | 'mongo' | 'postgres' | 'redis'} Role what a child is, for the order `stop` stops them in */
/** @typedef {{ name: string, role: Role, child: import('node:child_process').ChildProcess }} Child */
/**
 * The reader's /ready body, as far as this script reads it (JSON from the service, not checked).
 * @typedef {{ checks?: { reader?: { detail?: { state?: string, in_flight_events?: number, checkpoint_seq?: number | null } } } }} ReaderReady
 */
/**
 * What this script uses of s3rver (3.x; the package has no type declarations).
 * @typedef {{ run(): Promise<import('node:net').AddressInfo>, close(): Promise<void> }} S3rver
 */
/** Every child, in start order. @type {Child[]} */
const children = [];
let stopping = false;
/** The directory of the bundled TypeScript tools, once `bundle` made it. @type {string | undefined} */
let tools;

const build = spawnSync('nx', ['run-many', '-t', 'build', '--outputStyle=static'], { stdio: 'inherit', env, cwd: root });
if (build.status !== 0) process.exit(build.status ?? 1);

const source = process.env.MONGODB_URI ? 'mongodb' : process.env.SOURCE === 'synthetic' ? 'synthetic' : 'standin';
const ports = { gateway: process.env.METRICS_PORT ?? '9090', reader: '9091', writer: '9092', uploader: '9093' };

/** @returns {Promise<number>} */
const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
/**
 * @param {string} host
 * @param {number} port
 * @returns {Promise<boolean>}
 */
const answers = (host, port) =>
  new Promise((ok) => {
    const c = createConnection({ host, port }, () => (c.destroy(), ok(true)));
    c.on('error', () => ok(false));
    c.setTimeout(1000, () => (c.destroy(), ok(false)));
  });
/** @param {number} ms @returns {Promise<void>} */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {string} name
 * @param {Role} role
 * @param {string} command
 * @param {string[]} args
 * @param {Record<string, string | undefined>} extraEnv
 * @param {{ pipe?: boolean, user?: { uid: number, gid: number } }} [options]
 */
function run(name, role, command, args, extraEnv, { pipe = false, user } = {}) {
  if (stopping) return undefined;
  const child = spawn(command, args, { stdio: ['ignore', pipe ? 'pipe' : 'inherit', 'inherit'], env: { ...env, ...extraEnv }, cwd: root, detached: true, ...user });
  children.push({ name, role, child });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`runnel: ${name} exited (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
  return child;
}

/** @param {Child} c */
const running = ({ child }) => child.exitCode === null && child.signalCode === null;
/** @param {Child} c */
const exited = (c) => (running(c) ? new Promise((r) => c.child.once('exit', r)) : undefined);

/** Until the reader's /ready shows nothing in flight (or `ms` pass). @param {number} ms */
async function drained(ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const d = await fetch(`http://127.0.0.1:${ports.reader}/ready`, { signal: AbortSignal.timeout(1000) })
      .then((r) => /** @type {Promise<ReaderReady>} */ (r.json()))
      .then((b) => b?.checks?.reader?.detail)
      .catch(() => undefined);
    if (!d || d.state !== 'reading' || d.in_flight_events === 0) return;
    await sleep(200);
  }
  console.error('runnel: events still in flight after 10 s; stopping anyway (the stand-in forgets them)');
}

/**
 * SIGTERM (or `signal`) to a group of children, SIGKILL to those still there after `graceMs`.
 * @param {Child[]} list
 * @param {number} graceMs
 * @param {NodeJS.Signals} [signal]
 */
async function stopAll(list, graceMs, signal = 'SIGTERM') {
  for (const c of list) if (running(c)) c.child.kill(signal);
  const timer = setTimeout(() => list.forEach((c) => running(c) && c.child.kill('SIGKILL')), graceMs);
  await Promise.all(list.map(exited));
  clearTimeout(timer);
}

/**
 * Stops everything and never resolves (the process exits): for failures during start-up.
 * @param {string} message
 * @returns {Promise<never>}
 */
async function fail(message) {
  console.error(`runnel: ${message}`);
  void stop(1);
  return new Promise(() => undefined);
}

/** @param {number} code the exit code */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  // The writer first (nothing new to read), then the services (they drain, and need Redis and the
  // stand-in while they do), then the stand-in, PostgreSQL (a fast shutdown: SIGINT), Redis last.
  await stopAll(children.filter((c) => c.role === 'writer'), 30_000);
  // The stand-in forgets everything when it stops, so what was read must reach S3 before: wait (10 s
  // at most) until the checkpoint covers every event read. A real MongoDB keeps its oplog, and the
  // next start would replay the rest from the checkpoint.
  if (source === 'standin' && code === 0) await drained(10_000);
  for (const role of ['service', 'mongo', 'postgres', 'redis']) await stopAll(children.filter((c) => c.role === role), 30_000, role === 'postgres' ? 'SIGINT' : 'SIGTERM');
  await s3?.close();
  if (tools) rmSync(tools, { recursive: true, force: true });
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stop(0));
// Should this script die some other way, its children (in their own process groups) go with it.
process.on('exit', () => children.forEach((c) => running(c) && c.child.kill('SIGKILL')));

/**
 * Bundles TypeScript tools with esbuild as tools/dev/run-ts.mjs does (libs inlined, packages external),
 * so that they run as plain `node` children this script can signal directly.
 * @param {Record<string, string>} entries bundle name → entry point (relative to the repository)
 * @returns {Promise<Record<string, string>>} bundle name → the bundled file
 */
async function bundle(entries) {
  const { build, stop: stopEsbuild } = await import('esbuild');
  const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
  tools = mkdtempSync(join(tmpdir(), 'runnel-start-'));
  /** @type {Record<string, string>} */
  const out = {};
  for (const [name, entry] of Object.entries(entries)) {
    out[name] = join(tools, `${name}.cjs`);
    await build({ entryPoints: [join(root, entry)], bundle: true, platform: 'node', format: 'cjs', target: 'node24', outfile: out[name], tsconfig: join(root, 'tsconfig.base.json'), loader: { '.lua': 'text' }, external: Object.keys(pkg.dependencies), nodePaths: [join(root, 'node_modules')], logLevel: 'warning' });
  }
  await stopEsbuild(); // its service process would otherwise live as long as this script
  return out;
}

// Redis: the one at REDIS_URL, or a local redis-server with AOF under .data/redis.
let redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  const port = 6379;
  if (await answers('127.0.0.1', port)) redisUrl = `redis://127.0.0.1:${port}`;
  else {
    const dir = join(root, '.data/redis');
    mkdirSync(dir, { recursive: true });
    const redisPort = await freePort();
    run('redis', 'redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', '', '--loglevel', 'warning'], {});
    for (let i = 0; i < 100 && !(await answers('127.0.0.1', redisPort)); i++) await sleep(50);
    redisUrl = `redis://127.0.0.1:${redisPort}`;
    console.log(`runnel: started redis-server on ${redisUrl} (data in .data/redis)`);
  }
}

// PostgreSQL: the one at POSTGRES_URI, or a local one (Debian's postgresql package; trust auth on
// loopback, superuser postgres) with its cluster in .data/postgres. PostgreSQL refuses to run as
// root: as root, initdb and postgres run as the package's `postgres` user, which owns that directory.
let postgresUri = process.env.POSTGRES_URI;
if (!postgresUri) {
  const bin = (() => {
    const dir = '/usr/lib/postgresql';
    const majors = existsSync(dir) ? readdirSync(dir).filter((v) => existsSync(join(dir, v, 'bin/postgres'))).sort((a, b) => Number(b) - Number(a)) : [];
    if (majors.length > 0) return join(dir, majors[0], 'bin');
    const bindir = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' }).stdout?.trim();
    return bindir && existsSync(join(bindir, 'postgres')) ? bindir : undefined;
  })();
  if (!bin) await fail('no PostgreSQL server (/usr/lib/postgresql/*/bin/postgres): set POSTGRES_URI, or apt-get install postgresql (sh tools/dev/ensure-deps.sh does)');
  const dir = join(root, '.data/postgres');
  mkdirSync(dir, { recursive: true });
  const id = (/** @type {string} */ flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout);
  const user = process.getuid?.() === 0 ? { uid: id('-u'), gid: id('-g') } : undefined;
  if (user) chownSync(dir, user.uid, user.gid);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const init = spawnSync(join(/** @type {string} */ (bin), 'initdb'), ['-D', dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-instructions'], { cwd: dir, encoding: 'utf8', ...user });
    if (init.status !== 0) await fail(`initdb .data/postgres failed${user ? ' (as user postgres: it must be able to reach that directory)' : ''}: ${init.stderr || init.stdout}`);
  }
  const postgresPort = await freePort();
  run('postgres', 'postgres', join(/** @type {string} */ (bin), 'postgres'), ['-D', dir, '-p', String(postgresPort), '-h', '127.0.0.1', '-k', dir, '-c', 'log_checkpoints=off'], {}, { user });
  postgresUri = `postgresql://postgres@127.0.0.1:${postgresPort}/postgres`;
  const { Client } = require('pg');
  for (let i = 0; ; i++) {
    const client = new Client({ connectionString: postgresUri, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    const ok = await client.connect().then(() => client.query('SELECT 1')).then(() => true, () => false);
    await client.end().catch(() => undefined);
    if (ok || stopping) break;
    if (i === 600) await fail('PostgreSQL did not accept connections within 60 s');
    await sleep(100);
  }
  console.log(`runnel: started PostgreSQL on ${postgresUri} (data in .data/postgres)`);
}

// S3: the configured endpoint, or s3rver on loopback storing under .data/s3. `npm start` runs this
// script with --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES,
// and without the flag `npm run lake:verify` fails on any prefix of more than 1,000 objects.
/** @type {S3rver | undefined} */
let s3;
/** @type {Record<string, string | undefined>} */
const s3Env = {};
if (!process.env.S3_BUCKET) {
  /** @type {new (options: object) => S3rver} */
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

// The reader's source.
/** The bundled tools live in a temporary directory: their packages resolve from the repository's node_modules. */
const toolEnv = { NODE_PATH: join(root, 'node_modules') };
const database = process.env.MONGODB_DATABASE ?? 'shop';
let readerSource;
let writerBundle;
let mongoUri;
if (source === 'standin') {
  const bundles = await bundle({ 'mongo-dev': 'tools/dev/mongo-dev.ts', 'workload-writer': 'tools/mongo/workload-writer.ts' });
  writerBundle = bundles['workload-writer'];
  // (run returns undefined only once stopping, when what follows no longer matters; stdout is piped.)
  const mongo = /** @type {import('node:child_process').ChildProcess} */ (run('mongodb stand-in', 'mongo', node, [bundles['mongo-dev'], '--port', String(await freePort())], toolEnv, { pipe: true }));
  mongoUri = await new Promise((/** @type {(uri: string) => void} */ ok, reject) => {
    const timer = setTimeout(() => reject(new Error('the MongoDB stand-in printed no MONGODB_URI within 30 s')), 30_000);
    createInterface({ input: /** @type {import('node:stream').Readable} */ (mongo.stdout) }).on('line', (line) => {
      const m = /^MONGODB_URI=(\S+)/.exec(line.trim());
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      } else console.log(`mongodb stand-in: ${line}`);
    });
    mongo.once('exit', () => reject(new Error('the MongoDB stand-in exited while starting')));
  }).catch((err) => fail(err.message));
  console.log(`runnel: MongoDB: a local stand-in (not a real MongoDB) on ${mongoUri}, in memory: every npm start begins an empty database and a new history`);
  // The stand-in's history starts afresh each run, so a checkpoint left in .data/redis by an earlier
  // run points before it: the reader answers 286 with a new generation instead of stopping.
  readerSource = { SOURCE: 'mongodb', MONGODB_URI: mongoUri, MONGODB_DATABASE: database, ON_HISTORY_LOST: process.env.ON_HISTORY_LOST ?? 'latest' };
} else if (source === 'mongodb') {
  console.log('runnel: MongoDB: reading MONGODB_URI through the driver (nothing is written to it)');
  readerSource = { SOURCE: 'mongodb' };
} else {
  readerSource = { SOURCE: 'synthetic', SYNTHETIC_RATE: process.env.SYNTHETIC_RATE ?? '200' };
}

// The agent API queues and streams runs through Redis (the pipeline's, under its own key prefix).
run('gateway', 'service', node, ['dist/apps/gateway/main.js'], {
  PORT: gatewayPort,
  METRICS_PORT: ports.gateway,
  POSTGRES_URI: postgresUri,
  GATEWAY_REDIS_URL: process.env.GATEWAY_REDIS_URL ?? redisUrl,
});
run('change-reader', 'service', node, ['dist/apps/change-reader/main.js'], { ...pipeline, METRICS_PORT: ports.reader, ...readerSource });
run('batch-writer', 'service', node, ['dist/apps/batch-writer/main.js'], { ...pipeline, METRICS_PORT: ports.writer, S3_PREFIX: process.env.S3_PREFIX ?? 'cdc' });
run('s3-uploader', 'service', node, ['dist/apps/s3-uploader/main.js'], { ...pipeline, ...s3Env, METRICS_PORT: ports.uploader });

const describeSource = {
  standin: `the local MongoDB stand-in (${mongoUri}, database ${database}) with a workload writer`,
  mongodb: 'MongoDB change streams (MONGODB_URI)',
  synthetic: 'synthetic change events',
}[source];
console.log(`
Runnel is up.
  gateway      http://localhost:${gatewayPort}  — try /echo/playground and /chat/playground; metrics on :${ports.gateway}
  agents       the LangGraph Platform API on the same port: graph "agent" (chat with memory + a current_time tool)
                 import { Client } from '@langchain/langgraph-sdk';
                 const client = new Client({ apiUrl: 'http://localhost:${gatewayPort}' });
                 const thread = await client.threads.create();
                 await client.runs.wait(thread.thread_id, 'agent', { input: { messages: [{ role: 'user', content: 'What time is it?' }] } });
  pipeline     ${describeSource} → Redis → S3 (prefix ${process.env.S3_PREFIX ?? 'cdc'}/)
               status: http://localhost:${ports.reader}/ready (reader) :${ports.writer} (writer) :${ports.uploader} (uploader)
  lake check   S3_BUCKET=lake AWS_ENDPOINT_URL_S3=${s3Env.AWS_ENDPOINT_URL_S3 ?? '<your endpoint>'} S3_FORCE_PATH_STYLE=true AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER npm run lake:verify -- cdc/
Ctrl-C stops everything.
`);

if (source === 'standin') {
  // The writer starts once the reader has recorded where the stream starts, so it sees every write.
  for (let i = 0; i < 600 && !stopping; i++) {
    const ready = await fetch(`http://127.0.0.1:${ports.reader}/ready`, { signal: AbortSignal.timeout(1000) })
      .then((r) => /** @type {Promise<ReaderReady>} */ (r.json()))
      .catch(() => undefined);
    const d = ready?.checks?.reader?.detail;
    if (d?.state === 'reading' && d.checkpoint_seq !== null && d.checkpoint_seq !== undefined) break;
    await sleep(100);
  }
  if (!stopping) {
    const rate = process.env.WORKLOAD_RATE ?? '20';
    // (Both set above, as the source is the stand-in.)
    run('workload writer', 'writer', node, [/** @type {string} */ (writerBundle), '--uri', /** @type {string} */ (mongoUri), '--database', database, '--rate', rate], toolEnv);
  }
}
