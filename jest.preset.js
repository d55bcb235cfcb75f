/** Shared jest settings: TypeScript through SWC (type checking is `nx run-many -t typecheck`), @runnel/* to sources. */
const path = require('node:path');
const root = __dirname;

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
      // ESM-only packages (jose 6) compiled to CommonJS for jest's module system; esbuild bundles them as they are.
      '/node_modules/jose/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
    },
    transformIgnorePatterns: ['/node_modules/(?!jose/)'],
    moduleNameMapper: {
      '^@runnel/telemetry/instrument$': path.join(root, 'libs/telemetry/src/instrument.ts'),
      '^@runnel/lake/records$': path.join(root, 'libs/lake/src/records.ts'),
      '^@runnel/([a-z-]+)$': path.join(root, 'libs/$1/src/index.ts'),
    },
    moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'lua'],
    ...extra,
  };
};
