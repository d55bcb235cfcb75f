// esbuild options shared by the four services' builds (apps/<app>/project.json, @nx/esbuild's
// `esbuildConfig`), with a plugin that writes the image's dependency manifest next to the bundle:
//
//   dist/apps/<app>/package.json       the npm packages main.js loads at run time, at package-lock.json's
//                                      exact versions, and nothing else;
//   dist/apps/<app>/package-lock.json  the workspace lockfile cut down to what those need.
//
// Why not the executor's `generatePackageJson`: Nx lists the packages of the project graph, every
// npm package a file of the app or of any library it depends on imports, whether or not the bundle
// keeps that file (the gateway got mongodb, bson, @aws-sdk/client-s3, express and tsx, the pipeline
// services LangChain, pg, mongodb and tsx). esbuild's metafile names the bundle's own external
// imports: `require()` and `import()` of a literal package name, including lazy ones (the gateway's
// LangChain providers, jose, the agents platform's pg and bullmq). Workspace libraries (@runnel/*)
// are bundled and may not be external: the build fails if one is.
//
// Why not Nx's createLockFile for the lockfile: it keeps optional peer dependencies npm does not
// install (BullMQ's optional peer pg in the pipeline services' lockfiles, MongoDB's AWS credential
// providers in the gateway's) and re-hoists the rest. Here the lockfile holds the entries of
// package-lock.json that npm reaches from these dependencies (dependencies, optional dependencies,
// required peers), where package-lock.json places them: `npm install` takes it unchanged.
//
// The Dockerfile installs this manifest, so an image carries what its bundle imports
// (tools/docker/image-manifest.spec.ts checks).
//
// A bundled package (excludeFromExternal) that reads a file of its own directory at run time
// (`__dirname`) reads it from main.js's directory once bundled: BUNDLED_ASSETS names those files,
// and the plugin copies them next to main.js when the package's file is in the bundle (the
// Dockerfile's runtime stage copies them with main.js).
const { copyFileSync, existsSync, readFileSync, writeFileSync } = require('node:fs');
const { isBuiltin } = require('node:module');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * An entry of package-lock.json's `packages` (keyed by install location, `node_modules/…`), with the
 * fields read here typed; the others are copied as they are.
 * @typedef {{
 *   version: string,
 *   link?: boolean,
 *   dev?: boolean,
 *   devOptional?: boolean,
 *   dependencies?: Record<string, string>,
 *   optionalDependencies?: Record<string, string>,
 *   peerDependencies?: Record<string, string>,
 *   peerDependenciesMeta?: Record<string, { optional?: boolean }>,
 *   [field: string]: unknown,
 * }} LockEntry (`version` is absent from a workspace link's entry, `{ resolved, link: true }`: `link` is checked first)
 */
/** @typedef {{ name?: string, version?: string, packages: Record<string, LockEntry>, [field: string]: unknown }} Lockfile package-lock.json (v3) */
/** @typedef {string | { [name: string]: Override }} Override a value of package.json's `overrides` */
/**
 * The image's package.json (dist/apps/<app>/package.json).
 * @typedef {{
 *   name: string,
 *   version: string,
 *   private: boolean,
 *   description: string,
 *   type: string,
 *   main: string,
 *   engines?: Record<string, string>,
 *   dependencies: Record<string, string>,
 *   overrides?: Record<string, Override>,
 * }} ImageManifest
 */

/**
 * Bundled package file → the files it reads from its own directory at run time, copied next to the
 * bundle. parquet-wasm's Node build (what esbuild picks for `parquet-wasm` on platform node) loads
 * `${__dirname}/parquet_wasm_bg.wasm` when it is first required; bundling it (batch-writer) instead
 * of installing the package leaves out the package's ESM and bundler builds, each with its own copy
 * of the 5 MB WebAssembly.
 */
/** @type {Record<string, string[]>} */
const BUNDLED_ASSETS = {
  'node_modules/parquet-wasm/node/parquet_wasm.js': ['parquet_wasm_bg.wasm'],
};

/**
 * `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`.
 * @param {string} specifier
 * @returns {string}
 */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Bare package specifiers the output file imports at run time (esbuild's metafile, externals only).
 * @param {import('esbuild').Metafile} metafile
 * @param {string} outfile relative to the build's working directory, as the metafile names it
 * @returns {string[]}
 */
function externalPackages(metafile, outfile) {
  const output = metafile.outputs[outfile];
  if (!output) throw new Error(`image manifest: ${outfile} is not in the metafile's outputs`);
  /** @type {Set<string>} */
  const names = new Set();
  for (const imp of output.imports) {
    if (!imp.external || isBuiltin(imp.path) || imp.path.startsWith('.') || imp.path.startsWith('/')) continue;
    names.add(packageName(imp.path));
  }
  return [...names].sort();
}

/**
 * Copies the BUNDLED_ASSETS of the bundle's inputs next to it; returns the files' names.
 * @param {import('esbuild').Metafile} metafile
 * @param {string} outfile relative to `cwd`, as the metafile names it
 * @param {string} cwd the build's working directory
 * @param {string} outDir the bundle's directory
 * @returns {string[]}
 */
function copyBundledAssets(metafile, outfile, cwd, outDir) {
  /** @type {string[]} */
  const copied = [];
  for (const input of Object.keys(metafile.outputs[outfile].inputs)) {
    for (const asset of BUNDLED_ASSETS[input] ?? []) {
      const from = path.resolve(cwd, path.dirname(input), asset);
      if (!existsSync(from)) throw new Error(`bundled assets: ${input} reads ${asset} beside it, but there is no ${from}`);
      if (copied.includes(asset)) throw new Error(`bundled assets: two bundled packages read a file named ${asset} beside main.js`);
      copyFileSync(from, path.join(outDir, asset));
      copied.push(asset);
    }
  }
  return copied;
}

/**
 * npm's lookup of `name` from the package at `from`: its node_modules, then each ancestor's, then the root's.
 * @param {Lockfile['packages']} packages
 * @param {string} from an install location ('' for the root)
 * @param {string} name
 * @returns {string | undefined} the install location of `name`
 */
function locate(packages, from, name) {
  for (let base = from; ; ) {
    const loc = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[loc] && !packages[loc].link) return loc;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

/**
 * The lockfile entries npm installs for `dependencies`, copied from the workspace lockfile.
 * @param {Lockfile} lock
 * @param {ImageManifest} manifest
 * @returns {Lockfile}
 */
function pruneLockfile(lock, manifest) {
  /** @type {Record<string, LockEntry>} */
  const kept = {};
  /**
   * @param {string} from
   * @param {string[]} names
   * @param {Set<string>} optional
   */
  const visit = (from, names, optional) => {
    for (const name of names) {
      const loc = locate(lock.packages, from, name);
      if (!loc) {
        if (optional.has(name)) continue; // another platform's binary, not in the lockfile
        throw new Error(`image manifest: ${name} (needed by ${from || manifest.name}) is not in package-lock.json`);
      }
      if (kept[loc]) continue;
      // Flags as npm computes them for this tree: nothing is dev, dev-or-optional is optional.
      const entry = /** @type {LockEntry} */ (
        Object.fromEntries(
          Object.entries(lock.packages[loc])
            .filter(([key]) => key !== 'dev')
            .map(([key, value]) => (key === 'devOptional' ? ['optional', value] : [key, value])),
        )
      );
      kept[loc] = entry;
      const optionalDeps = new Set(Object.keys(entry.optionalDependencies ?? {}));
      const optionalPeers = new Set(Object.entries(entry.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([n]) => n));
      const peers = Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n));
      visit(loc, [...Object.keys(entry.dependencies ?? {}), ...optionalDeps, ...peers], optionalDeps);
    }
  };
  visit('', Object.keys(manifest.dependencies), new Set());
  const sorted = Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b)));
  const root = { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies, engines: manifest.engines };
  return { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages: { '': root, ...sorted } };
}

/**
 * @param {string} file
 * @returns {string} the path of the package.json of the package `file` belongs to
 */
function nearestPackageJson(file) {
  for (let dir = path.dirname(file); dir.startsWith(ROOT) && dir !== ROOT; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'package.json');
  }
  throw new Error(`image manifest: no package.json above ${file}`);
}

/** @returns {import('esbuild').Plugin} */
function imageManifestPlugin() {
  return {
    name: 'runnel-image-manifest',
    setup(build) {
      build.initialOptions.metafile = true;
      build.onEnd((result) => {
        if (result.errors.length > 0 || !result.metafile) return;
        // The apps' builds are single-entry bundles: @nx/esbuild sets `outfile` and `entryPoints`.
        const opts = build.initialOptions;
        const cwd = opts.absWorkingDir ?? ROOT;
        const outfile = path.relative(cwd, path.resolve(cwd, /** @type {string} */ (opts.outfile)));
        const outDir = path.dirname(path.resolve(cwd, outfile));
        // The app's own workspace manifest (apps/<app>/package.json): name and version.
        const entry = Array.isArray(opts.entryPoints) ? opts.entryPoints[0] : Object.values(/** @type {Record<string, string>} */ (opts.entryPoints))[0];
        /** @type {{ name: string, version: string }} */
        const appManifest = JSON.parse(readFileSync(nearestPackageJson(path.resolve(cwd, typeof entry === 'string' ? entry : entry.in)), 'utf8'));
        /** @type {{ engines?: Record<string, string>, overrides?: Record<string, Override> }} */
        const rootManifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
        /** @type {Lockfile} */
        const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));

        /** @type {Record<string, string>} */
        const dependencies = {};
        const problems = [];
        for (const name of externalPackages(result.metafile, outfile)) {
          const locked = lock.packages[`node_modules/${name}`];
          if (!locked) problems.push(`${name} is imported by the bundle but not in package-lock.json`);
          else if (locked.link) problems.push(`${name} is a workspace package: it must be bundled, not external`);
          else if (locked.dev) problems.push(`${name} is imported by the bundle but is a devDependency`);
          else dependencies[name] = locked.version;
        }
        if (problems.length > 0) throw new Error(`image manifest of ${outfile}: ${problems.join('; ')}`);

        /** @type {ImageManifest} */
        const manifest = {
          name: appManifest.name,
          version: appManifest.version,
          private: true,
          description: `Run-time dependencies of ${outfile} (generated by tools/build/app-esbuild.config.cjs).`,
          type: 'commonjs',
          main: path.basename(outfile),
          engines: rootManifest.engines,
          dependencies,
        };
        const imageLock = pruneLockfile(lock, manifest);
        // The workspace's overrides of packages the image has (none of them today: the one there is
        // for a dev-only package).
        const names = new Set(Object.keys(imageLock.packages).map((loc) => loc.slice(loc.lastIndexOf('node_modules/') + 13)));
        const overrides = Object.fromEntries(Object.entries(rootManifest.overrides ?? {}).filter(([name]) => names.has(name)));
        if (Object.keys(overrides).length > 0) manifest.overrides = overrides;
        copyBundledAssets(result.metafile, outfile, cwd, outDir);
        writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
        writeFileSync(path.join(outDir, 'package-lock.json'), `${JSON.stringify(imageLock, null, 2)}\n`);
      });
    },
  };
}

module.exports = {
  outExtension: { '.js': '.js' },
  logLevel: 'warning',
  loader: { '.lua': 'text' },
  plugins: [imageManifestPlugin()],
};
