// profile-summary-cli.ts for callers that run a script (tools/bench/pipeline/run.ts):
//
//   node tools/bench/gateway/profile-summary.mjs <file.cpuprofile> [--top=25] [--from-ms=N] [--to-ms=N] [--json]
//
// runs `node tools/dev/run-ts.mjs tools/bench/gateway/profile-summary-cli.ts` with the same arguments
// (stdout and the exit code passed through). TypeScript callers import ./profile-summary.ts instead.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const r = spawnSync(process.execPath, [join(root, 'tools/dev/run-ts.mjs'), join(root, 'tools/bench/gateway/profile-summary-cli.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exitCode = r.status ?? 1;
