import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { procState } from './proc-stats';
import { Child, NODE, REPO_ROOT } from './child';


describe('LocalServer (RedisServer and S3Server here; PostgresServer and LangGraphReferenceServer are LocalServers too)', () => {
  it('a tool that exits without stopping its servers leaves neither their processes nor their temp dirs behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runnel-harness-'));
    try {
      const script = join(dir, 'tool.cjs');
      buildSync({
        stdin: {
          contents: `
            const { RedisServer } = require('../redis-server');
            const { S3Server } = require('../s3-server');
            (async () => {
              const [redis, s3] = await Promise.all([RedisServer.start(), S3Server.start(['lake'])]);
              console.log(JSON.stringify({ servers: [redis, s3].map((s) => ({ pid: s.pid, dir: s.dir })) }));
              process.exit(0);
            })();`,
          resolveDir: __dirname,
          loader: 'ts',
        },
        bundle: true,
        platform: 'node',
        format: 'cjs',
        outfile: script,
        external: ['s3rver'],
        logLevel: 'silent',
      });
      const tool = spawnSync(NODE, [script], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, NODE_PATH: join(REPO_ROOT, 'node_modules') } });
      expect(tool.stderr).toBe('');
      expect(tool.status).toBe(0);
      const { servers } = JSON.parse(tool.stdout) as { servers: { pid: number; dir: string }[] };
      expect(servers).toHaveLength(2);
      for (const s of servers) {
        expect(procState(s.pid)).toMatch(/^(gone|Z)$/);
        expect(existsSync(s.dir)).toBe(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('Child.waitForOutput finds what a process prints, and fails with its output when it exits first', async () => {
    const c = new Child('printer', NODE, ['-e', 'setTimeout(() => console.log("listening on 4321"), 100); setTimeout(() => {}, 5000)']);
    try {
      const [, port] = await c.waitForOutput(/listening on (\d+)/, 5000);
      expect(port).toBe('4321');
    } finally {
      await c.stop('SIGKILL');
    }
    const dies = new Child('dies', NODE, ['-e', 'console.error("bad config"); process.exit(1)']);
    await expect(dies.waitForOutput(/listening/, 5000)).rejects.toThrow(/dies exited \(1\) before printing \/listening\/:\nbad config/);
  });
});
