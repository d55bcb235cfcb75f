// Runs a TypeScript tool from tools/ (bundled with esbuild: the repo's libs inlined through the
// tsconfig paths, packages external), passing the remaining arguments through.
//   node tools/dev/run-ts.mjs tools/lake/verify-lake.ts s3://bucket/prefix
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const [entry, ...args] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'runnel-tool-'));
const outfile = join(dir, 'tool.cjs');
try {
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node24', outfile, tsconfig: 'tsconfig.base.json', loader: { '.lua': 'text' }, external: Object.keys((await import('../../package.json', { with: { type: 'json' } })).default.dependencies), nodePaths: [join(process.cwd(), 'node_modules')], logLevel: 'warning' });
  const r = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit', env: { ...process.env, NODE_PATH: join(process.cwd(), 'node_modules') } });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
