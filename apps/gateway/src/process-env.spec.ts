import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// In a child process: the jest worker's own environment stays as it is.
const run = (script: string) =>
  execFileSync(process.execPath, ['-r', require.resolve('tsx/cjs'), '-e', script], {
    env: { ...process.env, RUNNEL_PROBE: 'kept' },
    encoding: 'utf8',
    cwd: join(__dirname, '..'),
  }).trim();

describe('snapshotProcessEnv', () => {
  it('leaves process.env a plain object with the same entries, which child processes still inherit, writes included', () => {
    const out = run(`
      const { snapshotProcessEnv } = require('./src/process-env.ts');
      const before = { ...process.env };
      snapshotProcessEnv();
      process.env.RUNNEL_LATER = 'added';
      const child = require('node:child_process').execFileSync(process.execPath, ['-p', 'process.env.RUNNEL_PROBE + "," + process.env.RUNNEL_LATER'], { encoding: 'utf8' }).trim();
      console.log(JSON.stringify({
        proto: Object.getPrototypeOf(process.env) === Object.prototype,
        same: JSON.stringify(Object.entries(before).sort()) === JSON.stringify(Object.entries(process.env).filter(([k]) => k !== 'RUNNEL_LATER').sort()),
        probe: process.env.RUNNEL_PROBE,
        child,
      }));
    `);
    expect(JSON.parse(out)).toEqual({ proto: true, same: true, probe: 'kept', child: 'kept,added' });
  });
});
