import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { procState } from './proc-stats';
import { Child, childEnv, liveChildren, NODE, REPO_ROOT } from './child';
import { eventually, waitForOk, waitForPort } from './wait-for';

const script = (code: string) => ['-e', code];

describe('Child', () => {
  it('keeps stdout and stderr apart and together, and reports the exit code', async () => {
    const c = new Child('echo', NODE, script('console.log("out-1"); console.error("err-1"); process.exit(3)'));
    expect(await c.exited).toBe(3);
    expect(c.stdout).toBe('out-1\n');
    expect(c.stderr).toBe('err-1\n');
    expect(c.output).toContain('out-1');
    expect(c.output).toContain('err-1');
    expect(c.running).toBe(false);
    expect(liveChildren()).not.toContain(c);
  });

  it('keeps only the newest keepBytes of output', async () => {
    const c = new Child('loud', NODE, script('for (let i = 0; i < 2000; i++) console.log("line " + i)'), { keepBytes: 1000 });
    await c.exited;
    expect(c.stdout.length).toBeLessThanOrEqual(1000);
    expect(c.stdout).toContain('line 1999');
    expect(c.tail(2)).toBe('line 1999\n');
  });

  it('passes only childEnv plus what is given: nothing of the caller’s environment leaks in', async () => {
    process.env.RUNNEL_HARNESS_LEAK = 'leaked';
    try {
      const c = new Child('env', NODE, script('console.log(JSON.stringify(process.env))'), { env: { EXTRA: '1', HOME: undefined } });
      await c.exited;
      const env = JSON.parse(c.stdout) as Record<string, string>;
      expect(env.EXTRA).toBe('1');
      expect(env.RUNNEL_HARNESS_LEAK).toBeUndefined();
      expect(env.HOME).toBeUndefined();
      expect(env.PATH.startsWith(join(REPO_ROOT, 'node_modules/.bin'))).toBe(true);
    } finally {
      delete process.env.RUNNEL_HARNESS_LEAK;
    }
    expect(Object.keys(childEnv()).sort()).toEqual(['HOME', 'LANG', 'PATH']);
  });

  it('stop() sends SIGTERM and SIGKILLs one that ignores it after killAfterMs', async () => {
    const c = new Child('ignores-term', NODE, script('process.on("SIGTERM", () => console.log("ignored")); console.log("up"); setInterval(() => {}, 1000)'));
    await eventually('the child to be up', () => c.stdout.includes('up'), 5000, 20);
    const t0 = Date.now();
    expect(await c.stop('SIGTERM', 300)).toBe('SIGKILL');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(c.stdout).toContain('ignored');
  });

  it('nextMessage resolves the typed IPC message, and rejects with the output when the child exits first', async () => {
    const c = new Child('ipc', NODE, script('process.send({ type: "noise" }); process.send({ type: "ready", port: 7 }); process.on("message", (m) => { if (m.type === "stop") process.exit(0) })'), { ipc: true });
    expect(await c.nextMessage('ready', 5000)).toEqual({ type: 'ready', port: 7 });
    c.send({ type: 'stop' });
    expect(await c.exited).toBe(0);
    const dies = new Child('dies', NODE, script('console.error("boom"); process.exit(2)'), { ipc: true });
    await expect(dies.nextMessage('ready', 5000)).rejects.toThrow(/dies exited \(2\) before 'ready':\nboom/);
  });

  it('nofile raises the open-files limit of that child only, keeping its pid', async () => {
    const c = new Child('nofile', NODE, script('console.log(process.pid, require("fs").readFileSync("/proc/self/limits", "utf8").match(/Max open files\\s+(\\d+)/)[1])'), { nofile: 1024 });
    await c.exited;
    const [pid, soft] = c.stdout.trim().split(' ').map(Number);
    expect(pid).toBe(c.pid);
    expect(soft).toBe(1024);
  });

  it('a child is killed when the process that started it exits', () => {
    // A parent that starts a long-running child through the harness (bundled, as run-ts runs tools)
    // and exits without stopping it.
    const dir = mkdtempSync(join(tmpdir(), 'runnel-harness-'));
    try {
      const parentJs = join(dir, 'parent.cjs');
      buildSync({ stdin: { contents: `const { Child } = require('./child'); const c = new Child('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)']); console.log(c.pid); setTimeout(() => process.exit(0), 200);`, resolveDir: __dirname, loader: 'ts' }, bundle: true, platform: 'node', format: 'cjs', outfile: parentJs, logLevel: 'silent' });
      const parent = spawnSync(NODE, [parentJs], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(parent.status).toBe(0);
      const pid = Number(parent.stdout.trim());
      expect(pid).toBeGreaterThan(0);
      expect(procState(pid)).toMatch(/^(gone|Z)$/); // killed: gone, or a zombie until its new parent reaps it
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waitForPort and waitForOk fail at once, with the output, when the child exits', async () => {
    const c = new Child('gone', NODE, script('console.error("no config"); process.exit(1)'));
    await expect(waitForPort(1, c, 10_000)).rejects.toThrow(/gone exited \(1\) before listening on 1:\nno config/);
    await expect(waitForOk('http://127.0.0.1:1/ready', c, 10_000)).rejects.toThrow(/gone exited \(1\) while starting/);
  });
});
