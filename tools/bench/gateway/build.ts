// The code under test and the bench's own child processes, built before anything starts: the gateway
// (nx build, a given bundle, or a commit's source bundled like its build target), the gateway's
// EchoRunnable for the bare LangChain server, and the bare server and load worker entries.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { childEnv, REPO_ROOT } from '@runnel/testing';
import type { BenchOptions } from './options';
import { HERE, log } from './workload';

// esbuild's API must not be bundled into this tool (run-ts bundles the devDependencies it imports):
// loaded from node_modules at run time.
const load = createRequire(join(REPO_ROOT, 'package.json'));
const { build: esbuild } = load('esbuild') as typeof import('esbuild');

export const DEFAULT_GATEWAY_MAIN = join(REPO_ROOT, 'dist/apps/gateway/main.js');
const ECHO_SOURCE = join(REPO_ROOT, 'apps/gateway/src/runnables/echo-runnable.ts');

export interface BuildInfo {
  built: boolean;
  gatewayMain?: string;
  commit?: string;
  subject?: string;
}

/**
 * Bundles `dir`'s gateway as its apps/gateway/project.json build target does: its esbuildConfig file's
 * options (e.g. the .lua loader; not its plugins, which write the image's manifest) or, in older
 * commits, its esbuildOptions.
 */
async function bundleGateway(dir: string, outfile: string): Promise<void> {
  const o = JSON.parse(readFileSync(join(dir, 'apps/gateway/project.json'), 'utf8')).targets.build.options;
  const { outExtension: _configExtension, plugins: _plugins, ...fromConfig } = (o.esbuildConfig ? load(join(dir, o.esbuildConfig)) : {}) as BuildOptions;
  const { outExtension: _outExtension, ...extra } = o.esbuildOptions ?? {};
  await esbuild({
    logLevel: 'warning',
    ...fromConfig,
    ...extra,
    entryPoints: [join(dir, o.main)],
    outfile,
    bundle: o.bundle !== false,
    platform: o.platform ?? 'node',
    format: o.format?.[0] ?? 'cjs',
    target: o.target ?? 'node24',
    ...(o.thirdParty === false ? { packages: 'external' } : {}),
    sourcemap: o.sourcemap ?? true,
    tsconfig: join(dir, o.tsConfig),
  });
}

/** The gateway as committed at `rev`, bundled like apps/gateway/project.json's build target, in `tmp`. */
export async function buildCommit(rev: string, tmp: string): Promise<BuildInfo & { commit: string; subject: string; gatewayMain: string }> {
  const git = (args: string[]) => spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' });
  const sha = git(['rev-parse', '--verify', `${rev}^{commit}`]).stdout?.trim();
  if (!sha) throw new Error(`--gateway-commit: ${rev} is not a commit`);
  const dir = join(tmp, `gateway-${sha.slice(0, 12)}`);
  const archive = spawnSync('sh', ['-c', `mkdir -p "$1" && git archive "$2" | tar -x -C "$1"`, 'sh', dir, sha], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (archive.status !== 0) throw new Error(`--gateway-commit: git archive ${sha} failed: ${archive.stderr}`);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const outfile = join(dir, 'dist/apps/gateway/main.js');
  await bundleGateway(dir, outfile);
  const subject = git(['log', '-1', '--format=%h %s', sha]).stdout.trim();
  log(`build: gateway at ${subject.slice(0, 100)} -> ${outfile}`);
  return { built: true, commit: sha, subject, gatewayMain: outfile };
}

/** The working tree's gateway: built now (--build always), reused, or the --gateway-main bundle. */
export function buildGateway(opts: BenchOptions, gatewayMain: string): BuildInfo {
  if (opts.gatewayMain) {
    if (!existsSync(gatewayMain)) throw new Error(`--gateway-main: ${gatewayMain} does not exist`);
    log(`build: none; benchmarking ${gatewayMain} (--gateway-main)`);
    return { built: false, gatewayMain };
  }
  if (opts.build !== 'always' && existsSync(gatewayMain)) {
    log(`build: reusing ${gatewayMain} (--no-build)`);
    return { built: false };
  }
  log('build: nx run gateway:build ...');
  const t0 = Date.now();
  const r = spawnSync(join(REPO_ROOT, 'node_modules/.bin/nx'), ['run', 'gateway:build'], { cwd: REPO_ROOT, env: { ...process.env, ...childEnv(), NX_DAEMON: 'false' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gateway build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  log(`build: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { built: true };
}

const CHILD_BUNDLE: BuildOptions = { bundle: true, platform: 'node', format: 'cjs', target: 'node24', packages: 'external', logLevel: 'warning' };

/** The gateway's EchoRunnable, for the bare LangChain server. */
export async function bundleEchoRunnable(tmp: string): Promise<string> {
  const outfile = join(tmp, 'echo-runnable.cjs');
  await esbuild({ ...CHILD_BUNDLE, entryPoints: [ECHO_SOURCE], outfile });
  return outfile;
}

/**
 * A child process's entry (bare-server.ts, load-worker.ts) bundled on its own into `tmp`, so that a
 * measured process loads only its own code; the source map keeps profiles at the .ts lines.
 */
export async function bundleChildEntry(name: string, tmp: string): Promise<string> {
  const outfile = join(tmp, `${name}.cjs`);
  await esbuild({ ...CHILD_BUNDLE, entryPoints: [join(HERE, `${name}.ts`)], outfile, sourcemap: true, tsconfig: join(REPO_ROOT, 'tsconfig.base.json') });
  return resolve(outfile);
}
