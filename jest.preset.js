/** Shared jest settings: TypeScript through SWC (type checking is `nx run-many -t typecheck`), @runnel/* to sources. */
const path = require('node:path');
const root = __dirname;

/**
 * ESM-only packages compiled to CommonJS for jest's module system (esbuild bundles them as they are):
 * jose 6, and what @langchain/langgraph-sdk's CommonJS build requires (p-retry, p-queue, and theirs).
 */
const esm = '/node_modules/(jose|p-retry|p-queue|p-timeout|is-network-error)/';

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
    moduleNameMapper: {
      '^@runnel/telemetry/instrument$': path.join(root, 'libs/telemetry/src/instrument.ts'),
      '^@runnel/lake/records$': path.join(root, 'libs/lake/src/records.ts'),
      '^@runnel/lake/formats$': path.join(root, 'libs/lake/src/formats/index.ts'),
      '^@runnel/lake/object-store$': path.join(root, 'libs/lake/src/object-store.ts'),
      '^@runnel/service/process-signals$': path.join(root, 'libs/service/src/process-signals.ts'),
      '^@runnel/config/exit-process$': path.join(root, 'libs/config/src/exit-process.ts'),
      // tools/ reach an app only through its tooling entry point (eslint.config.mjs allows exactly these).
      '^@runnel/(gateway|change-reader|batch-writer|s3-uploader)/tooling$': path.join(root, 'apps/$1/src/tooling.ts'),
      '^@runnel/([a-z-]+)$': path.join(root, 'libs/$1/src/index.ts'),
    },
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'lua'],
    ...extra,
  };
};
