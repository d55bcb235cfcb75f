/**
 * npm run docs:generate [-- --check]
 *
 * Regenerates the marked regions of docs/deployment.md (configuration tables, from the services'
 * zod schemas and the JSDoc above each key) and docs/observability.md (metrics from the services'
 * registries, alerts from k8s/observability/prometheus-rules.yaml, dashboard panels). With
 * --check, writes nothing and exits 1 when a doc differs from what it would write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDocs, undocumentedVariables } from './render-docs';

const root = process.cwd();
const check = process.argv.includes('--check');
let stale = 0;
for (const { file, current, expected } of renderDocs(root)) {
  if (current === expected) continue;
  stale++;
  if (check) process.stderr.write(`${file} is out of date: run npm run docs:generate\n`);
  else {
    writeFileSync(join(root, file), expected);
    process.stdout.write(`updated ${file}\n`);
  }
}
// Only reported when writing (the docs test fails on any): --check need not walk the schemas again.
const undocumented = check ? [] : undocumentedVariables(root);
if (undocumented.length) process.stdout.write(`variables without a JSDoc description (empty cells): ${undocumented.join(', ')}\n`);
if (check && stale === 0) process.stdout.write('docs are up to date\n');
process.exitCode = check && stale > 0 ? 1 : 0;
