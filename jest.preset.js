/** Shared jest settings: TypeScript through SWC (type checking is `nx run-many -t typecheck`), @runnel/* to sources. */
const path = require('node:path');
const root = __dirname;

/**
 * ESM-only packages compiled to CommonJS for jest's module system (esbuild bundles them as they are):
 * jose 6, and what @langchain/langgraph-sdk's CommonJS build requires (p-retry, p-queue, and theirs).
 */
const esm = '/node_modules/(jose|p-retry|p-queue|p-timeout|is-network-error)/';

/**
 * @runnel/* to sources, as tsconfig.base.json's `paths` map them (the one list: the bundles and the
 * type checker read the same), each an exact module name.
 */
const ts = require('typescript');
const { config } = ts.readConfigFile(path.join(root, 'tsconfig.base.json'), ts.sys.readFile);
const PATHS = Object.fromEntries(
  Object.entries(config.compilerOptions.paths).map(([name, [file]]) => [`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, path.join(root, file)]),
);

module.exports = function preset(projectDir, displayName, extra = {}) {
  return {
    displayName,
    rootDir: path.join(root, projectDir),
    testEnvironment: 'node',
    testMatch: ['<rootDir>/**/*.spec.ts'],
    transform: {
      '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } }],
      // Lua scripts are imported as text (esbuild's text loader in the bundles).
      '^.+\\.lua$': path.join(root, 'tools/jest/text-transform.cjs'),
      // The ESM-only packages above.
      [`${esm}.+\\.js$`]: ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
    },
    // node_modules as they are, but for those.
    transformIgnorePatterns: [`^(?!.*${esm}).*/node_modules/`],
    moduleNameMapper: PATHS,
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'lua'],
    ...extra,
  };
};
