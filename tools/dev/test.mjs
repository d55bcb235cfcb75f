// `npm test`: build the services (the lifecycle and compose tests run the bundles), type-check and
// lint every project, then run every jest project. Ends with one summary line that CI reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' };
/**
 * @param {string} cmd
 * @param {string[]} args
 * @returns {number} its exit status (1 when it died of a signal or did not start)
 */
const run = (cmd, args) => {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  return r.status ?? 1;
};

if (run('nx', ['run-many', '-t', 'build', 'typecheck', 'lint', '--parallel=2', '--outputStyle=static']) !== 0) {
  console.log('\nbuild, typecheck or lint failed\n0 passed, 1 failed');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'runnel-jest-'));
const results = join(dir, 'results.json');
// --forceExit: a child process that hangs (once, a service bundle stuck at Node's start-up) keeps
// jest's pipes open, and jest would wait for ever after the last test; with it jest exits, and
// ServiceProcess kills what is still running on exit.
const code = run('jest', ['--ci', '--forceExit', '--json', `--outputFile=${results}`, ...process.argv.slice(2)]);
let summary = '0 passed, 1 failed';
try {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  summary = `${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests} skipped`;
} catch {
  /* jest crashed before writing results: keep the failing summary */
}
rmSync(dir, { recursive: true, force: true });
console.log(`\njest: ${summary}`);
process.exit(code);
