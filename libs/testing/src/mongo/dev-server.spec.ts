import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MongoClient } from 'mongodb';
import { freePort } from '../free-port';
import { DEV_USAGE, parseDevArgs, startDevServer } from './dev-server';

const root = join(__dirname, '../../../..');

describe('mongo:dev (the stand-in by itself)', () => {
  it('parses its options', () => {
    expect(parseDevArgs([])).toMatchObject({ port: 27017 });
    expect(parseDevArgs(['--port', '0', '--host=0.0.0.0', '--advertise-host', 'mongo', '--oplog-size', '500', '--repl-set', 'rsX'])).toEqual({
      port: 0,
      host: '0.0.0.0',
      advertiseHost: 'mongo',
      oplogSize: 500,
      replSetName: 'rsX',
      recordCommands: 0,
    });
    expect(() => parseDevArgs(['--port', 'x'])).toThrow('--port needs a non-negative integer');
    expect(() => parseDevArgs(['--nope'])).toThrow('unknown option --nope');
    expect(() => parseDevArgs(['--help'])).toThrow(DEV_USAGE);
  });

  it('prints MONGODB_URI first and says it is a stand-in', async () => {
    const lines: string[] = [];
    const m = await startDevServer(['--port', '0'], (l) => lines.push(l));
    try {
      expect(lines[0]).toBe(`MONGODB_URI=mongodb://127.0.0.1:${m.port}/?replicaSet=rs0`);
      expect(lines[1]).toMatch(/stand-in, not a real MongoDB/);
    } finally {
      await m.stop();
    }
  });

  it('`npm run mongo:dev -- --port N` starts, a driver can ping it, and SIGTERM stops it with exit code 0', async () => {
    const port = await freePort();
    // The script's command (package.json "mongo:dev"), without npm in between so the signal reaches it.
    const child = spawn(process.execPath, ['tools/dev/run-ts.mjs', 'tools/dev/mongo-dev.ts', '--port', String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const uri = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no MONGODB_URI within 25 s')), 25_000);
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const hit = /^MONGODB_URI=(\S+)$/.exec(line);
          if (hit) {
            clearTimeout(timer);
            resolve(hit[1]);
          }
        });
        child.once('exit', () => reject(new Error('mongo:dev exited before printing MONGODB_URI')));
      });
      expect(uri).toBe(`mongodb://127.0.0.1:${port}/?replicaSet=rs0`);
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
      try {
        expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
      } finally {
        await client.close();
      }
      // SIGTERM to the stand-in's process (run-ts.mjs's child, the bundled mongo-dev): it stops,
      // exits 0, and run-ts.mjs passes that exit code on.
      // (Its other child is esbuild's service process.)
      const tool = Number(execFileSync('pgrep', ['-P', String(child.pid), '-f', 'tool.cjs'], { encoding: 'utf8' }).trim().split('\n')[0]);
      process.kill(tool, 'SIGTERM');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
      expect(await Promise.race([exited, timeout])).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 40_000);
});
