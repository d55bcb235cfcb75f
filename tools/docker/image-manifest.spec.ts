/**
 * Each image carries exactly what its bundle imports: for every service, the packages
 * dist/apps/<app>/main.js loads at run time equal the dependencies of the manifest the build writes
 * beside it (dist/apps/<app>/package.json, which the Dockerfile's prod-deps stage installs), each
 * at package-lock.json's version, with no workspace package (@runnel/* libraries are bundled).
 *
 * The bundle's imports are read two ways: from the bundle's text (every `require("…")`,
 * `import("…")` and `createRequire(…)("…")` of a literal package name, which the generator does
 * not look at) and from esbuild's metafile (meta.json, what the generator uses). Loads of a
 * computed name cannot be checked: each bundle's are listed below (the gateway's user-supplied
 * RUNNABLES_MODULE and langgraph.json graphs, which bring their own dependencies), so that a new
 * one fails here until someone looks at it.
 *
 * A bundled package that reads a file of its own directory (`__dirname`) reads it from main.js's
 * directory: each such file must be in the build output beside main.js (the build copies it,
 * BUNDLED_ASSETS in tools/build/app-esbuild.config.cjs) and be one the Dockerfile's runtime stage
 * copies with main.js. Any other use of `__dirname` fails until someone looks at it.
 *
 * Reads the bundles `npm test` builds first; a lone jest run builds the ones missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '@runnel/testing';

const APPS = ['gateway', 'change-reader', 'batch-writer', 's3-uploader'];
const OUTPUTS = ['main.js', 'meta.json', 'package.json', 'package-lock.json'];

/**
 * Literal `require("…")` texts in a bundle that are not loads: messages of bundled packages quoting
 * a require for the reader (the S3 SDK's "register the package by calling require(…)" for its
 * optional SigV4a signers, which it never loads itself). Reviewed; a new one fails until listed.
 */
const TEXT_MENTIONS: Record<string, string[]> = {
  gateway: [],
  'change-reader': [],
  'batch-writer': ['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a'],
  's3-uploader': ['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a'],
};

/** Computed-name loads each bundle may make (the text of the call's argument). */
const COMPUTED_LOADS: Record<string, string[]> = {
  gateway: ['import(target)', 'import((0, import_node_url.pathToFileURL)(target).href)'],
  'change-reader': [],
  'batch-writer': [],
  's3-uploader': [],
};

/** The runtime stage's copy of the build output: the file patterns it takes from dist/apps/${APP}/. */
function runtimeCopiedPatterns(dockerfile: string): RegExp[] {
  const copy = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .find((line) => /^COPY\s+--from=build\s.*\/dist\/apps\/\$\{APP\}\/main\.js\s/.test(line));
  if (!copy) throw new Error("the Dockerfile's runtime stage has no COPY of dist/apps/${APP}/main.js");
  return [...copy.matchAll(/\/dist\/apps\/\$\{APP\}\/(\S+)/g)].map((m) => new RegExp(`^${m[1].replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`));
}

/** Files each bundle reads from main.js's directory (reviewed: a new one fails until listed). */
const BESIDE_MAIN: Record<string, string[]> = {
  gateway: [],
  'change-reader': [],
  // parquet-wasm's Node build, bundled: its WebAssembly, which it reads when main.js loads.
  'batch-writer': ['parquet_wasm_bg.wasm'],
  's3-uploader': [],
};

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
interface LockEntry {
  version?: string;
  link?: boolean;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
interface Lockfile {
  packages: Record<string, LockEntry>;
}
interface Metafile {
  outputs: Record<string, { imports: Array<{ path: string; kind: string; external?: boolean }> }>;
}

const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
/** A bare npm package specifier (lower-case name, optional scope and subpath): not a builtin, a path or a format string. */
const isPackage = (specifier: string) => !isBuiltin(specifier) && !specifier.startsWith('node:') && /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[^\s]*)?$/.test(specifier);

/** Packages the bundle's text loads by a literal name. */
export function bundleTextPackages(bundle: string): string[] {
  const literal = /\b(?:require|import)\(\s*(["'])([^"'\n]+)\1\s*\)|\bcreateRequire\)?\([^()]*\)\(\s*(["'])([^"'\n]+)\3\s*\)/g;
  const names = new Set<string>();
  for (const m of bundle.matchAll(literal)) {
    const specifier = m[2] ?? m[4];
    if (isPackage(specifier)) names.add(packageOf(specifier));
  }
  return [...names].sort();
}

/** `require(…)` / `import(…)` calls whose argument is not a string literal (esbuild's numbered import_x2 names without the number). */
export function computedLoads(bundle: string): string[] {
  const calls: string[] = [];
  for (const m of bundle.matchAll(/\b(require|import)\((?!\s*["'])(?!\s*\))/g)) {
    if (m.index > 0 && /[.\w$]/.test(bundle[m.index - 1])) continue; // x.require(…), __require(…)
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < bundle.length; end++) {
      if (bundle[end] === '(') depth++;
      else if (bundle[end] === ')' && --depth === 0) break;
    }
    calls.push(bundle.slice(m.index, end + 1).replace(/\b(import_\w*?)\d+\b/g, '$1'));
  }
  return calls;
}

/**
 * Files the bundle reads from its own directory: `${__dirname}/name`, `__dirname + "/name"` and
 * `join(__dirname, "name")` (also path.join / resolve); any other use of `__dirname` is listed as
 * its text under `other`.
 */
export function dirnameFiles(bundle: string): { files: string[]; other: string[] } {
  const files = new Set<string>();
  const other: string[] = [];
  for (const m of bundle.matchAll(/(?<![\w$.])__dirname(?![\w$])/g)) {
    const before = bundle.slice(Math.max(0, m.index - 40), m.index);
    const after = bundle.slice(m.index, m.index + 120);
    const hit =
      (before.endsWith('${') ? /^__dirname\}\/([\w.-]+)`/.exec(after) : null) ?? // `${__dirname}/name`
      /^__dirname\s*\+\s*(["'`])\/([\w.-]+)\1/.exec(after) ?? // __dirname + "/name"
      (/\b(?:join|resolve)\)?\(\s*$/.test(before) ? /^__dirname\s*,\s*(["'`])([\w.-]+)\1\s*\)/.exec(after) : null); // (0, import_path.join)(__dirname, "name")
    if (hit) files.add(hit[hit.length - 1]);
    else other.push(`${before.split('\n').pop()}${after.split('\n')[0]}`.trim());
  }
  return { files: [...files].sort(), other };
}

/** Packages the metafile's output imports as externals. */
export function metafilePackages(meta: Metafile, outfile: string): string[] {
  const output = meta.outputs[outfile];
  if (!output) throw new Error(`${outfile} is not in the metafile`);
  return [...new Set(output.imports.filter((i) => i.external && isPackage(i.path)).map((i) => packageOf(i.path)))].sort();
}

/** Everything wrong with an image manifest for the packages a bundle imports (empty = OK). */
export function manifestProblems(imported: string[], manifest: Manifest, rootLock: Lockfile, imageLock: Lockfile): string[] {
  const problems: string[] = [];
  const deps = manifest.dependencies ?? {};
  for (const name of imported) if (!(name in deps)) problems.push(`missing: the bundle imports ${name}`);
  for (const name of Object.keys(deps)) if (!imported.includes(name)) problems.push(`extra: ${name} is not imported by the bundle`);
  for (const [name, version] of Object.entries(deps)) {
    const locked = rootLock.packages[`node_modules/${name}`];
    if (name.startsWith('@runnel/') || locked?.link) problems.push(`workspace package ${name} listed (libraries are bundled)`);
    else if (!locked) problems.push(`${name} is not in package-lock.json`);
    else if (locked.version !== version) problems.push(`${name}@${version}: package-lock.json has ${locked.version}`);
    else if (locked.dev) problems.push(`${name} is a devDependency in package-lock.json`);
    if (imageLock.packages[`node_modules/${name}`]?.version !== version) {
      problems.push(`${name}@${version}: the image's lockfile has ${imageLock.packages[`node_modules/${name}`]?.version ?? 'nothing'}`);
    }
  }
  for (const field of ['devDependencies', 'optionalDependencies'] as const) {
    if (Object.keys(manifest[field] ?? {}).length > 0) problems.push(`${field} listed: the image installs dependencies only`);
  }
  const lockRoot = imageLock.packages['']?.dependencies ?? {};
  if (JSON.stringify(Object.entries(lockRoot).sort()) !== JSON.stringify(Object.entries(deps).sort())) problems.push("the image's lockfile root does not match the manifest");
  const workspace = Object.keys(imageLock.packages).filter((k) => k.includes('node_modules/@runnel/') || imageLock.packages[k].link);
  if (workspace.length > 0) problems.push(`the image's lockfile has workspace packages: ${workspace.join(', ')}`);
  return problems;
}

/**
 * The image's lockfile as a tree: every entry is where package-lock.json has it, at its version;
 * npm reaches every entry from the root's dependencies (nothing extraneous) and finds every
 * dependency, optional ones and optional peers aside (nothing missing).
 */
export function lockfileProblems(imageLock: Lockfile, rootLock: Lockfile): string[] {
  const problems: string[] = [];
  const pk = imageLock.packages;
  for (const [loc, entry] of Object.entries(pk)) {
    if (loc && rootLock.packages[loc]?.version !== entry.version) problems.push(`${loc}@${entry.version}: package-lock.json has ${rootLock.packages[loc]?.version ?? 'nothing there'}`);
  }
  const find = (from: string, name: string): string | undefined => {
    for (let base = from; ; base = base.includes('/node_modules/') ? base.slice(0, base.lastIndexOf('/node_modules/')) : '') {
      const loc = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (pk[loc]) return loc;
      if (!base) return undefined;
    }
  };
  const reached = new Set<string>(['']);
  const queue = [''];
  while (queue.length > 0) {
    const loc = queue.shift()!;
    const e = pk[loc];
    const optionalPeers = Object.entries(e.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n);
    const needed = [...Object.keys(e.dependencies ?? {}), ...Object.keys(e.peerDependencies ?? {}).filter((n) => !optionalPeers.includes(n))];
    for (const name of [...needed, ...Object.keys(e.optionalDependencies ?? {})]) {
      const dep = find(loc, name);
      if (!dep) {
        if (needed.includes(name)) problems.push(`missing: ${name}, needed by ${loc || 'the root'}`);
      } else if (!reached.has(dep)) {
        reached.add(dep);
        queue.push(dep);
      }
    }
  }
  for (const loc of Object.keys(pk)) if (!reached.has(loc)) problems.push(`extraneous: ${loc}`);
  return problems;
}

function ensureBuilt(app: string): string {
  const dir = join(REPO_ROOT, 'dist/apps', app);
  if (!OUTPUTS.every((f) => existsSync(join(dir, f)))) {
    const r = spawnSync(join(REPO_ROOT, 'node_modules/.bin/nx'), ['run', `${app}:build`], { cwd: REPO_ROOT, env: { ...process.env, NX_DAEMON: 'false' }, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`building ${app} failed`);
  }
  return dir;
}

const runtimeCopies = runtimeCopiedPatterns(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const rootLock = readJson<Lockfile>(join(REPO_ROOT, 'package-lock.json'));

describe.each(APPS)("%s image's dependency manifest (dist/apps/%s/package.json)", (app) => {
  const dir = ensureBuilt(app);
  const bundle = readFileSync(join(dir, 'main.js'), 'utf8');
  const manifest = readJson<Manifest>(join(dir, 'package.json'));
  const imageLock = readJson<Lockfile>(join(dir, 'package-lock.json'));
  const fromText = bundleTextPackages(bundle).filter((name) => !TEXT_MENTIONS[app].includes(name));

  test('lists exactly the packages the bundle loads, at the lockfile versions, and no workspace package', () => {
    expect(fromText.length).toBeGreaterThan(0);
    expect(manifestProblems(fromText, manifest, rootLock, imageLock)).toEqual([]);
  });

  test("the image's lockfile is the workspace's, cut to what npm installs for the manifest", () => {
    expect(lockfileProblems(imageLock, rootLock)).toEqual([]);
  });

  test("the bundle's text and esbuild's metafile name the same packages", () => {
    expect(metafilePackages(readJson<Metafile>(join(dir, 'meta.json')), `dist/apps/${app}/main.js`)).toEqual(fromText);
  });

  test('loads nothing by a computed name but the reviewed ones', () => {
    expect(computedLoads(bundle)).toEqual(COMPUTED_LOADS[app]);
  });

  test('every file it reads beside itself (__dirname) is in the build output and copied into the image', () => {
    const { files, other } = dirnameFiles(bundle);
    expect(other).toEqual([]);
    expect(files).toEqual(BESIDE_MAIN[app]);
    for (const file of files) {
      expect({ file, built: existsSync(join(dir, file)) }).toEqual({ file, built: true });
      expect({ file, copied: runtimeCopies.some((p) => p.test(file)) }).toEqual({ file, copied: true });
    }
  });
});

describe('the checks can fail (self-test)', () => {
  const imported = ['ioredis', 'pino'];
  const version = (name: string) => rootLock.packages[`node_modules/${name}`].version!;
  const lockOf = (deps: Record<string, string>): Lockfile => ({
    packages: { '': { dependencies: deps }, ...Object.fromEntries(Object.entries(deps).map(([n, v]) => [`node_modules/${n}`, { version: v }])) },
  });
  const good = { ioredis: version('ioredis'), pino: version('pino') };

  test('a right manifest passes (control)', () => {
    expect(manifestProblems(imported, { name: 'x', dependencies: good }, rootLock, lockOf(good))).toEqual([]);
  });

  test.each([
    { title: 'a missing dependency', deps: { ioredis: good.ioredis }, problem: /missing: the bundle imports pino/ },
    { title: 'an extra dependency', deps: { ...good, mongodb: version('mongodb') }, problem: /extra: mongodb/ },
    { title: 'a version other than the lockfile', deps: { ...good, pino: '1.0.0' }, problem: /pino@1.0.0: package-lock.json has/ },
    { title: 'a workspace package', deps: { ...good, '@runnel/config': '0.1.0' }, problem: /workspace package @runnel\/config/ },
    { title: 'a devDependency', deps: { ...good, '@duckdb/node-api': version('@duckdb/node-api') }, problem: /@duckdb\/node-api is a devDependency/ },
  ])('rejects $title', ({ deps, problem }) => {
    expect(manifestProblems(imported, { name: 'x', dependencies: deps }, rootLock, lockOf(deps)).join('\n')).toMatch(problem);
  });

  test("rejects a lockfile that does not match the manifest, or carries a workspace link", () => {
    const lock = lockOf({ ioredis: good.ioredis });
    lock.packages['node_modules/@runnel/config'] = { link: true };
    const problems = manifestProblems(imported, { name: 'x', dependencies: good }, rootLock, lock).join('\n');
    expect(problems).toMatch(/lockfile root does not match/);
    expect(problems).toMatch(/workspace packages: node_modules\/@runnel\/config/);
  });

  test("rejects an image lockfile with an extraneous or a missing package, or another placement's version", () => {
    const loc = (name: string) => `node_modules/${name}`;
    const tree = (extra: Record<string, LockEntry>): Lockfile => ({
      packages: { '': { dependencies: { pino: version('pino') } }, [loc('pino')]: { version: version('pino'), dependencies: { 'sonic-boom': '*' } }, ...extra },
    });
    const sonic = { [loc('sonic-boom')]: { version: rootLock.packages[loc('sonic-boom')].version } };
    expect(lockfileProblems(tree(sonic), rootLock)).toEqual([]);
    expect(lockfileProblems(tree({}), rootLock).join('\n')).toMatch(/missing: sonic-boom, needed by node_modules\/pino/);
    expect(lockfileProblems(tree({ ...sonic, [loc('pg')]: { version: version('pg') } }), rootLock).join('\n')).toMatch(/extraneous: node_modules\/pg/);
    expect(lockfileProblems(tree({ [loc('sonic-boom')]: { version: '0.0.1' } }), rootLock).join('\n')).toMatch(/sonic-boom@0.0.1: package-lock.json has/);
  });

  test('reads literal loads (require, import(), createRequire) from bundle text, and computed ones apart', () => {
    const text = 'var a = require("pino"); const b = await import("jose"); (0, import_node_module.createRequire)(__filename)("@langchain/langgraph/package.json"); require("node:fs"); require("./x"); require(name); import(`${x}`);';
    expect(bundleTextPackages(text)).toEqual(['@langchain/langgraph', 'jose', 'pino']);
    expect(computedLoads(text)).toEqual(['require(name)', 'import(`${x}`)']);
    // Bundled packages' comments and messages: a format string or an empty call is no load.
    expect(bundleTextPackages('util.format("require(\'%s\')", m); // an inline `import()` of a path')).toEqual([]);
    expect(computedLoads('// emits an inline `import()` of an ESM path')).toEqual([]);
  });

  test('reads the files a bundle takes from its own directory, and other uses of __dirname apart', () => {
    const text = 'var p = `${__dirname}/a_bg.wasm`; var q = __dirname + "/b.json"; (0, import_node_path.join)(__dirname, "c.node"); x.__dirname; my__dirname; var r = __dirname;';
    expect(dirnameFiles(text)).toEqual({ files: ['a_bg.wasm', 'b.json', 'c.node'], other: [expect.stringMatching(/var r = __dirname;$/)] });
    expect(runtimeCopiedPatterns('COPY --from=build /app/dist/apps/${APP}/main.js /app/dist/apps/${APP}/*.wasm ./\n').map(String)).toEqual(['/^main\\.js$/', '/^[^/]*\\.wasm$/']);
  });
});
