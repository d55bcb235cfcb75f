/**
 * npm run test:images [-- [app ...] [--no-build] [--strict] [--verbose]]
 *
 * Builds the four service images and checks each container the way production runs it (not part of
 * `npm test`: a full run takes about 10 minutes, more the first time on a machine, and it installs packages and downloads npm packages):
 *   - the image runs as uid/gid 1000, with a read-only root filesystem and only /tmp writable
 *     (--read-only, a tmpfs on /tmp, nothing else mounted writable);
 *   - /health and /ready answer 200 (the pipeline services with a real redis-server on a free
 *     loopback port, libs/testing's RedisServer; containers use the host's network so they reach
 *     it at 127.0.0.1; the gateway needs no Redis), on free ports set with PORT / METRICS_PORT;
 *   - SIGTERM makes the service exit 0 within its drain bound (SHUTDOWN_TIMEOUT, set to 10 s);
 *   - the image's HEALTHCHECK passes (`podman healthcheck run`; with Docker the container's health
 *     status, checked every second);
 *   - the image holds no copy of the host's CA bundle (mounted into the build for RUN steps only);
 *   - batch-writer, run with FORMAT=parquet, encodes a batch job (a version 3 job, its JSONL body in
 *     Redis, as change-reader hands them on) into an object job whose body is a Parquet file that
 *     decodes, here on the host, to the batch's events: the WebAssembly encoder works in the image;
 * and prints each image's size and its start time (container start to a 200 from /ready) against
 * the targets: gateway < 350 MB, pipeline images < 250 MB (base image included), < 2 s to ready.
 * Exit 1 when a check fails; a missed target is printed, and fails the run only with --strict.
 *
 * The engine: Docker when a Docker engine answers, else podman (apt-get installs podman, runc,
 * uidmap, slirp4netns and debootstrap when missing; engine.ts has the containers.conf it runs with).
 * The Dockerfile's base image is pulled when absent, made locally when the pull fails (base-image.ts), then kept.
 * Options: app names to check only those; --no-build to reuse images built by an earlier run;
 * --strict to fail on missed targets; --verbose to stream the build output.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { type ChangeEnvelope, decodeObject, jsonlLine } from '@runnel/lake';
import { BodyStore, DEFAULT_PREFIX, type ObjectJob, QUEUES } from '@runnel/queue';
import { CommandLine, eventually, freePort, OptionError, RedisServer, REPO_ROOT, stopChildrenOnExit, table } from '@runnel/testing';
import { baseImagesOf, ensureBaseImage } from './base-image';
import { type Engine, engineSync, engineToLog, imageExists, openEngine, tail } from './engine';
import { imageBuildArgs } from '../docker/image-build-args';

// ---------------------------------------------------------------------------------------------
// What is built: the Dockerfile (path from the repository root) and each image's build args, as
// docker-bake.hcl gives them (imageBuildArgs); the targets each image is printed against.
// ---------------------------------------------------------------------------------------------
const DOCKERFILE = 'Dockerfile';
const IMAGES: ImageSpec[] = [
  { app: 'gateway', buildArgs: imageBuildArgs('gateway'), maxSizeMB: 350, redis: false },
  { app: 'change-reader', buildArgs: imageBuildArgs('change-reader'), maxSizeMB: 250, redis: true },
  // FORMAT=parquet: the format whose encoder is more than JavaScript (parquet-wasm's WebAssembly,
  // a file of its own in the image), checked by encodesParquet.
  { app: 'batch-writer', buildArgs: imageBuildArgs('batch-writer'), maxSizeMB: 250, redis: true, env: { FORMAT: 'parquet' }, work: encodesParquet },
  // Readiness asks Redis only; S3 is not contacted until an object job arrives (none does: its Redis
  // is its own).
  {
    app: 's3-uploader',
    buildArgs: imageBuildArgs('s3-uploader'),
    maxSizeMB: 250,
    redis: true,
    env: { S3_BUCKET: 'test-images', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
  },
];
const BUILD_TARGET = 'runtime';
const TAG = 'test-images';
const MAX_START_MS = 2000;
/** SHUTDOWN_TIMEOUT the containers run with: the drain bound SIGTERM's exit is held to. */
const SHUTDOWN_TIMEOUT_S = 10;
/** How long a container may take to answer /ready before the check gives up. */
const READY_TIMEOUT_MS = 60_000;

interface ImageSpec {
  app: string;
  buildArgs: Record<string, string>;
  maxSizeMB: number;
  /** Needs a Redis (REDIS_URL) to be ready. */
  redis: boolean;
  /** Environment the container runs with besides the ports, Redis and SHUTDOWN_TIMEOUT. */
  env?: Record<string, string>;
  /** A check that the ready service does its work (given its Redis), run before SIGTERM. */
  work?: (redisUrl: string) => Promise<Check>;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface Result {
  app: string;
  image: string;
  buildSeconds?: number;
  sizeMB?: number;
  startToReadyMs?: number;
  runToReadyMs?: number;
  stopMs?: number;
  exitCode?: number;
  checks: Check[];
  targets: Check[];
}

const log = (line: string) => process.stdout.write(`${line}\n`);
/** Containers this run started and has not removed yet: removed as it exits, on Ctrl-C too. */
const liveContainers = new Set<string>();
let activeEngine: Engine | undefined;
// SIGINT (exit 130), SIGTERM (143) or a failure stop the Redis servers; the containers go as it exits.
stopChildrenOnExit();
process.on('exit', () => {
  for (const name of liveContainers) if (activeEngine) engineSync(activeEngine, ['rm', '-f', name], { allowFail: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv: string[]) {
  const usage = `apps: ${IMAGES.map((i) => i.app).join(', ')}; flags: --no-build --strict --verbose`;
  let cl: CommandLine;
  try {
    cl = new CommandLine(argv, process.env, { values: [], flags: ['no-build', 'strict', 'verbose'] });
  } catch (err) {
    throw new OptionError(`${(err as Error).message}; ${usage}`);
  }
  const apps = cl.positional;
  const unknown = apps.filter((a) => !IMAGES.some((i) => i.app === a));
  if (unknown.length) throw new OptionError(`unknown app ${unknown.join(', ')}; ${usage}`);
  return {
    images: apps.length ? IMAGES.filter((i) => apps.includes(i.app)) : IMAGES,
    build: !cl.has('no-build'),
    strict: cl.has('strict'),
    verbose: cl.has('verbose'),
  };
}

/** The host's CA bundle npm uses (its cafile, else NODE_EXTRA_CA_CERTS), if any. */
function hostCaBundle(): string | undefined {
  const r = spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' });
  const cafile = r.status === 0 ? r.stdout.trim() : '';
  for (const candidate of [cafile, process.env.NODE_EXTRA_CA_CERTS ?? '']) {
    if (candidate && candidate !== 'null' && candidate !== 'undefined' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * For podman builds: a directory mounted on /usr/local/etc (npm's global config directory in the
 * node images) for the RUN steps only, holding the host's CA bundle and an npmrc naming it as
 * npm's cafile. Build-time volumes are not part of any layer (checked after the build).
 */
function buildCaDir(engine: Engine, bundle: string): string {
  const dir = join(engine.dir, 'build-etc');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'host-ca.crt'), readFileSync(bundle));
  writeFileSync(join(dir, 'npmrc'), 'cafile=/usr/local/etc/host-ca.crt\n');
  return dir;
}

async function buildImage(engine: Engine, spec: ImageSpec, image: string, caDir: string | undefined, logFile: string, verbose: boolean): Promise<void> {
  const args = ['build', '-f', DOCKERFILE, '--target', BUILD_TARGET, '-t', image];
  for (const [k, v] of Object.entries(spec.buildArgs)) args.push('--build-arg', `${k}=${v}`);
  if (engine.name === 'podman') {
    // docker format: OCI image configs have no HEALTHCHECK. The base image is local by now (ensureBaseImage).
    args.push('--format', 'docker', '--pull=never', '--network', 'host', '--layers');
    if (caDir) args.push('--volume', `${caDir}:/usr/local/etc:ro`);
  }
  args.push('.');
  const code = await engineToLog(engine, args, logFile, { echo: verbose });
  if (code !== 0) throw new Error(`building ${image} failed (exit ${code}); last lines of ${logFile}:\n${tail(logFile)}`);
}

function inspect<T>(engine: Engine, kind: 'image' | 'container', name: string, format: string): T {
  return JSON.parse(engineSync(engine, [kind, 'inspect', '--format', `{{json ${format}}}`, name]).stdout.trim()) as T;
}

/** No file in the image that is the host's CA bundle, and no build npmrc left behind. */
function checkNoHostCa(engine: Engine, image: string, bundle: string | undefined): Check {
  const script = "find / -xdev -type f \\( -name '*.crt' -o -name '*.pem' -o -name npmrc -o -name host-ca.crt \\) -exec sha256sum {} + 2>/dev/null; true";
  const r = engineSync(engine, ['run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', script], { timeoutMs: 120_000 });
  const files = r.stdout.trim().split('\n').filter(Boolean).map((l) => ({ sum: l.split(/\s+/)[0], path: l.split(/\s+/).slice(1).join(' ') }));
  const hostSum = bundle ? createHash('sha256').update(readFileSync(bundle)).digest('hex') : undefined;
  const leaked = files.filter((f) => f.sum === hostSum || f.path.startsWith('/usr/local/etc/'));
  return { name: 'no host CA in image', ok: leaked.length === 0, detail: leaked.length ? leaked.map((f) => f.path).join(', ') : files.length ? `none of its ${files.length} .crt/.pem/npmrc files is the host's bundle or a build npmrc` : 'no .crt, .pem or npmrc file in the image' };
}

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: (await res.text()).slice(0, 300) };
  } catch {
    return undefined;
  }
}

function containerRunning(engine: Engine, name: string): boolean {
  const r = engineSync(engine, ['container', 'inspect', '--format', '{{.State.Running}}', name], { allowFail: true });
  return r.status === 0 && r.stdout.trim() === 'true';
}

async function runChecks(engine: Engine, spec: ImageSpec, image: string, redisUrl: string | undefined, result: Result, logDir: string): Promise<void> {
  const name = `runnel-test-images-${spec.app}-${process.pid}`;
  const check = (c: Check) => {
    result.checks.push(c);
    log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  };
  const env: Record<string, string> = { SHUTDOWN_TIMEOUT: String(SHUTDOWN_TIMEOUT_S) };
  let healthPort: number;
  if (!spec.redis) {
    const [port, metricsPort] = [await freePort(), await freePort()];
    Object.assign(env, { PORT: String(port), METRICS_PORT: String(metricsPort), HEALTH_PORT: String(port) });
    healthPort = port;
  } else {
    if (!redisUrl) throw new Error(`${spec.app} needs a Redis`);
    const metricsPort = await freePort();
    Object.assign(env, { METRICS_PORT: String(metricsPort), HEALTH_PORT: String(metricsPort), REDIS_URL: redisUrl });
    healthPort = metricsPort;
  }
  Object.assign(env, spec.env);

  const runArgs = ['run', '-d', '--name', name, '--network', 'host', '--read-only', '--tmpfs', '/tmp:rw,mode=1777,size=64m'];
  if (engine.name === 'podman') runArgs.push('--read-only-tmpfs=false');
  else runArgs.push('--health-interval', '1s', '--health-start-period', '0s');
  for (const [k, v] of Object.entries(env)) runArgs.push('-e', `${k}=${v}`);
  runArgs.push(image);

  const runAt = Date.now();
  liveContainers.add(name);
  engineSync(engine, runArgs, { timeoutMs: 60_000 });
  try {
    // Start to ready: polled every 20 ms from the run command; the container's StartedAt gives the
    // time from the process's start (what the 2 s target is about).
    let ready: { status: number; body: string } | undefined;
    let readyAt = 0;
    while (Date.now() - runAt < READY_TIMEOUT_MS) {
      ready = await get(`http://127.0.0.1:${healthPort}/ready`);
      if (ready?.status === 200) {
        readyAt = Date.now();
        break;
      }
      if (!containerRunning(engine, name)) break;
      await sleep(20);
    }
    const startedAt = Date.parse(inspect<string>(engine, 'container', name, '.State.StartedAt'));
    if (readyAt) {
      result.runToReadyMs = readyAt - runAt;
      result.startToReadyMs = Number.isFinite(startedAt) ? readyAt - startedAt : undefined;
    }
    check({ name: '/ready', ok: ready?.status === 200, detail: readyAt ? `200 ${result.startToReadyMs ?? '?'} ms after the container started (${result.runToReadyMs} ms after \`${engine.name} run\`)` : `no 200 in ${READY_TIMEOUT_MS / 1000} s (last: ${ready ? `${ready.status} ${ready.body}` : 'no answer'})` });
    if (!readyAt) return;
    const health = await get(`http://127.0.0.1:${healthPort}/health`);
    check({ name: '/health', ok: health?.status === 200, detail: health ? `${health.status} ${health.body.replace(/\s+/g, ' ').slice(0, 120)}` : 'no answer' });

    const status = engineSync(engine, ['exec', name, 'cat', '/proc/1/status']).stdout;
    const uid = /^Uid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/) ?? [];
    const gid = /^Gid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/) ?? [];
    check({ name: 'runs as 1000:1000', ok: uid.length > 0 && [...uid, ...gid].every((id) => id === '1000'), detail: `PID 1 uid ${uid.join('/')} gid ${gid.join('/')}; image USER ${inspect<string>(engine, 'image', image, '.Config.User')}` });

    const readOnly = inspect<boolean>(engine, 'container', name, '.HostConfig.ReadonlyRootfs');
    const probe = engineSync(engine, ['exec', name, 'sh', '-c', 'for d in / /app /etc /usr/local /var/tmp /run /home/node; do touch "$d/.rw-probe" 2>/dev/null && echo "writable:$d"; done; touch /tmp/.rw-probe && rm /tmp/.rw-probe && echo tmp-ok']).stdout;
    const writable = probe.split('\n').filter((l) => l.startsWith('writable:')).map((l) => l.slice(9));
    check({ name: 'read-only root, /tmp writable', ok: readOnly && writable.length === 0 && probe.includes('tmp-ok'), detail: `ReadonlyRootfs ${readOnly}; writable besides /tmp: ${writable.length ? writable.join(' ') : 'none'}; /tmp ${probe.includes('tmp-ok') ? 'writable' : 'NOT writable'}` });

    if (engine.name === 'podman') {
      const hc = engineSync(engine, ['healthcheck', 'run', name], { allowFail: true, timeoutMs: 30_000 });
      check({ name: 'HEALTHCHECK', ok: hc.status === 0, detail: `podman healthcheck run: exit ${hc.status}${(hc.stdout || hc.stderr).trim() ? ` (${(hc.stdout || hc.stderr).trim().split('\n').pop()})` : ''}` });
    } else {
      let health = '';
      const until = Date.now() + 30_000;
      while (Date.now() < until && health !== 'healthy' && health !== 'unhealthy') {
        health = engineSync(engine, ['container', 'inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{end}}', name]).stdout.trim();
        await sleep(250);
      }
      check({ name: 'HEALTHCHECK', ok: health === 'healthy', detail: `health status ${health || 'none'}` });
    }

    if (spec.work) {
      try {
        if (!redisUrl) throw new Error(`${spec.app}'s work check needs a Redis`);
        check(await spec.work(redisUrl));
      } catch (err) {
        check({ name: 'does its work', ok: false, detail: (err as Error).message });
      }
    }

    const stopAt = Date.now();
    engineSync(engine, ['kill', '--signal', 'TERM', name]);
    const waited = engineSync(engine, ['wait', name], { allowFail: true, timeoutMs: (SHUTDOWN_TIMEOUT_S + 20) * 1000 });
    result.stopMs = Date.now() - stopAt;
    result.exitCode = Number(inspect<number>(engine, 'container', name, '.State.ExitCode'));
    check({ name: 'SIGTERM', ok: waited.status === 0 && result.exitCode === 0 && result.stopMs <= SHUTDOWN_TIMEOUT_S * 1000, detail: `exit ${result.exitCode} ${(result.stopMs / 1000).toFixed(2)} s after SIGTERM (bound: SHUTDOWN_TIMEOUT=${SHUTDOWN_TIMEOUT_S} s)` });
  } finally {
    const logs = engineSync(engine, ['logs', name], { allowFail: true });
    const logFile = join(logDir, `${spec.app}.container.log`);
    writeFileSync(logFile, `${logs.stdout}${logs.stderr}`);
    if (result.checks.some((c) => !c.ok)) log(`  container output (${logFile}):\n${tail(logFile, 30).replace(/^/gm, '    ')}`);
    engineSync(engine, ['rm', '-f', name], { allowFail: true });
    liveContainers.delete(name);
  }
}

/** A batch of three change events of one collection, as change-reader cuts them. */
function sampleEvents(): ChangeEnvelope[] {
  return [1, 2, 3].map((seq) => ({
    operation: seq === 3 ? 'update' : 'insert', database: 'db', collection: 'orders', document_key: `{"_id":${seq}}`,
    full_document: `{"_id":${seq},"total":{"$numberDouble":"${seq}.5"},"note":"caf\u00e9"}`, full_document_before_change: null,
    update_description: seq === 3 ? '{"updatedFields":{"total":{"$numberDouble":"3.5"}},"removedFields":[],"truncatedArrays":[]}' : null,
    operation_description: null, to_namespace: null, cluster_time: `1795000000.${seq}`, event_time: '2026-11-18T11:06:40.000Z',
    cluster_time_increment: seq, wall_time: '2026-11-18T11:06:40.123Z', txn_number: seq === 2 ? '7' : null, lsid: null, stream: 'db', generation: 1, seq,
  }));
}

/**
 * batch-writer (FORMAT=parquet): a version 3 batch job in, an object job out whose body is Parquet
 * (PAR1 at both ends, a `.parquet` key) and decodes, with the host's parquet-wasm, to the events.
 */
async function encodesParquet(redisUrl: string): Promise<Check> {
  const name = 'encodes a batch (FORMAT=parquet)';
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const batches = new Queue(QUEUES.batches, { connection: redis, prefix: DEFAULT_PREFIX });
  const objects = new Queue(QUEUES.objects, { connection: redis, prefix: DEFAULT_PREFIX });
  try {
    const events = sampleEvents();
    const jobId = 'test-images-parquet';
    const bodyKey = await new BodyStore(redis, DEFAULT_PREFIX).putBatch(jobId, Buffer.from(events.map(jsonlLine).join('')));
    const started = Date.now();
    await batches.add(
      'batch',
      { v: 3, stream: 'db', generation: 1, batchId: 'orders@1', database: 'db', collection: 'orders', seqStart: 1, seqEnd: 3, partition: '2026-11-18T11', bodyKey, count: 3, operations: { insert: 2, update: 1 }, resumeToken: { _data: 'test-images' } },
      { jobId },
    );
    const job = await eventually('the object job', async () => (await objects.getJob(jobId)) ?? undefined, 15_000, 50);
    const data = job.data as ObjectJob;
    const body = await redis.getBuffer(data.bodyKey);
    if (!body) return { name, ok: false, detail: `object job ${data.key}: no body at ${data.bodyKey}` };
    const magic = body.subarray(0, 4).toString('latin1') === 'PAR1' && body.subarray(-4).toString('latin1') === 'PAR1';
    const decoded = magic ? decodeObject(body, 'parquet') : [];
    const same = isDeepStrictEqual(decoded, events);
    const ok = data.key.endsWith('.parquet') && data.contentType === 'application/vnd.apache.parquet' && magic && same && data.events === 3;
    return {
      name,
      ok,
      detail: `${data.key.split('/').pop()} (${data.contentType}, ${body.length} bytes, ${Date.now() - started} ms): ${magic ? 'a Parquet file' : 'NOT Parquet (no PAR1 magic)'}${magic ? `, ${same ? 'decodes to the 3 events' : `decodes to other rows: ${JSON.stringify(decoded).slice(0, 200)}`}` : ''}`,
    };
  } finally {
    await batches.close();
    await objects.close();
    redis.disconnect();
  }
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? '-' : ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function printSummary(engine: Engine, results: Result[]): void {
  log(`\n## test:images summary (${engine.name})\n`);
  const rows = [['image', 'size', 'start→ready', 'SIGTERM', 'build', 'checks', 'targets']];
  for (const r of results) {
    const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
    const missed = r.targets.filter((t) => !t.ok).map((t) => t.name);
    rows.push([
      r.image,
      r.sizeMB === undefined ? '-' : `${r.sizeMB.toFixed(0)} MB`,
      fmtMs(r.startToReadyMs),
      r.exitCode === undefined ? '-' : `exit ${r.exitCode} in ${fmtMs(r.stopMs)}`,
      r.buildSeconds === undefined ? '(not built)' : `${r.buildSeconds.toFixed(0)} s`,
      failed.length ? `FAIL: ${failed.join(', ')}` : `${r.checks.length} ok`,
      missed.length ? `missed: ${missed.join(', ')}` : 'met',
    ]);
  }
  log(table(rows));
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  process.chdir(REPO_ROOT);
  const engine = openEngine();
  activeEngine = engine;
  const logDir = mkdtempSync(join(tmpdir(), 'runnel-test-images-logs-'));
  const results: Result[] = [];
  let failed = false;
  try {
    log(`engine: ${engine.name} (${engineSync(engine, ['--version']).stdout.trim()})${engine.env.CONTAINERS_CONF ? `, CONTAINERS_CONF=${engine.env.CONTAINERS_CONF}` : ''}`);
    const bases = baseImagesOf(readFileSync(DOCKERFILE, 'utf8'));
    for (const base of bases) ensureBaseImage(engine, base, REPO_ROOT);
    const bundle = hostCaBundle();
    const caDir = engine.name === 'podman' && bundle ? buildCaDir(engine, bundle) : undefined;

    for (const spec of opts.images) {
      const image = `runnel/${spec.app}:${TAG}`;
      const result: Result = { app: spec.app, image, checks: [], targets: [] };
      results.push(result);
      log(`\n## ${image}`);
      let redis: RedisServer | undefined;
      try {
        if (opts.build || !imageExists(engine, image)) {
          const started = Date.now();
          log(`  building (${DOCKERFILE}, ${Object.entries(spec.buildArgs).map(([k, v]) => `${k}=${v}`).join(' ')}) ...`);
          await buildImage(engine, spec, image, caDir, join(logDir, `${spec.app}.build.log`), opts.verbose);
          result.buildSeconds = (Date.now() - started) / 1000;
          log(`  built in ${result.buildSeconds.toFixed(0)} s`);
        }
        result.sizeMB = inspect<number>(engine, 'image', image, '.Size') / 1e6;
        const user = inspect<string>(engine, 'image', image, '.Config.User');
        const stopSignal = inspect<string | null>(engine, 'image', image, '.Config.StopSignal');
        const healthcheck = inspect<{ Test?: string[] } | null>(engine, 'image', image, '.Config.Healthcheck');
        log(`  size ${result.sizeMB.toFixed(0)} MB; USER ${user}; STOPSIGNAL ${stopSignal ?? '-'}; HEALTHCHECK ${healthcheck?.Test?.length ? healthcheck.Test.join(' ').slice(0, 60) + '…' : 'none'}`);
        const ca = checkNoHostCa(engine, image, bundle);
        result.checks.push(ca);
        log(`  ${ca.ok ? 'ok  ' : 'FAIL'} ${ca.name}: ${ca.detail}`);
        // A Redis of its own for each service: another's leftovers (the reader's batches, the
        // writer's object jobs) would give it work, and the uploader uploads to no S3 here.
        if (spec.redis) {
          redis = await RedisServer.start();
          log(`  redis-server: ${redis.url}`);
        }
        await runChecks(engine, spec, image, redis?.url, result, logDir);
      } catch (err) {
        result.checks.push({ name: 'run', ok: false, detail: (err as Error).message });
        log(`  FAIL ${(err as Error).message}`);
      } finally {
        await redis?.stop();
      }
      if (result.sizeMB !== undefined) result.targets.push({ name: `size < ${spec.maxSizeMB} MB`, ok: result.sizeMB < spec.maxSizeMB, detail: `${result.sizeMB.toFixed(0)} MB` });
      result.targets.push({ name: `ready < ${MAX_START_MS / 1000} s`, ok: result.startToReadyMs !== undefined && result.startToReadyMs < MAX_START_MS, detail: fmtMs(result.startToReadyMs) });
      for (const t of result.targets) log(`  target ${t.ok ? 'met   ' : 'MISSED'} ${t.name} (${t.detail})`);
    }
  } finally {
    printSummary(engine, results);
    failed = results.some((r) => r.checks.some((c) => !c.ok) || (opts.strict && r.targets.some((t) => !t.ok)));
    engine.dispose();
    if (failed) log(`\nlogs (build output, container output): ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(err instanceof OptionError ? `test:images: ${err.message}` : (err.stack ?? err.message));
    process.exitCode = 1;
  },
);
