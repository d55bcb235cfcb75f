import nx from '@nx/eslint-plugin';

/**
 * Who may import whom. Apps import libs, libs only libs, nothing imports an app; and by scope: the
 * gateway and the shared libs only shared libs (the gateway image must not need the pipeline's
 * packages), the pipeline services and libs shared and pipeline libs, and `@runnel/testing`
 * (scope:test) only tests and tools.
 */
const PRODUCT = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
  { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  { sourceTag: 'scope:change-reader', onlyDependOnLibsWithTags: ['scope:shared', 'scope:pipeline'] },
  { sourceTag: 'scope:batch-writer', onlyDependOnLibsWithTags: ['scope:shared', 'scope:pipeline'] },
  { sourceTag: 'scope:s3-uploader', onlyDependOnLibsWithTags: ['scope:shared', 'scope:pipeline'] },
  { sourceTag: 'scope:pipeline', onlyDependOnLibsWithTags: ['scope:shared', 'scope:pipeline'] },
  { sourceTag: 'scope:test', onlyDependOnLibsWithTags: ['scope:shared', 'scope:pipeline', 'scope:test'] },
];
// Apps are imported by nothing, but tools/ read each app's tooling entry point (its config schema,
// its metric factories: apps/<app>/src/tooling.ts) to generate docs and check deployment files.
const TOOLING_ENTRY_POINTS = ['@runnel/gateway/tooling', '@runnel/change-reader/tooling', '@runnel/batch-writer/tooling', '@runnel/s3-uploader/tooling'];
const WITH_TEST = PRODUCT.map((c) => ({ ...c, onlyDependOnLibsWithTags: [...c.onlyDependOnLibsWithTags, 'scope:test'] }));
const moduleBoundaries = (depConstraints, allow = []) => ({ enforceBuildableLibDependency: true, allow, depConstraints });

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/.nx', '**/coverage', '*.js'] },
  {
    // The Node scripts under tools/ (and libs/testing's runner): .mjs are ES modules, .cjs CommonJS.
    files: ['**/*.mjs', '**/*.cjs'],
    // (No Node globals needed: `no-undef` is off for JS as for TS; tsc checks names, see tools/tsconfig.js.json.)
    rules: { '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }] },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries(PRODUCT)],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Tests may also use the test lib (real servers, the MongoDB stand-in); product code may not.
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries(WITH_TEST)],
    },
  },
  {
    // Only tools/ may use the apps' tooling entry points.
    files: ['tools/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries(WITH_TEST, TOOLING_ENTRY_POINTS)] },
  },
];
