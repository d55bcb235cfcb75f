import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { PostgresServer } from './postgres-server';

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('PostgresServer', () => {
  it('keeps a committed row across a crash (kill) and a restart on the same dir', async () => {
    const first = await PostgresServer.start();
    const dir = first.dir;
    let second: PostgresServer | undefined;
    try {
      const url = await first.createDatabase('spec_db');
      expect(url).toBe(`postgresql://postgres@127.0.0.1:${first.port}/spec_db`);
      await query(url, 'CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)');
      await query(url, 'INSERT INTO t VALUES ($1, $2)', [1, 'ünïcode']);
      expect(await query(first.url, 'SHOW server_encoding')).toEqual([{ server_encoding: 'UTF8' }]);

      const pid = first.pid!;
      await first.kill();
      expect(alive(pid)).toBe(false);
      await expect(query(url, 'SELECT 1')).rejects.toThrow();

      second = await PostgresServer.start({ dir, port: first.port });
      expect(second.pid).not.toBe(pid);
      expect(await query(second.urlFor('spec_db'), 'SELECT id, v FROM t')).toEqual([{ id: 1, v: 'ünïcode' }]);
    } finally {
      await second?.stop(); // keeps the dir: it was given to start()
      await first.stop(); // removes it: first made it
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('stop() ends a server with open sessions and removes its temp dir', async () => {
    const server = await PostgresServer.start();
    const client = new Client({ connectionString: server.url });
    client.on('error', () => undefined);
    await client.connect();
    await server.stop();
    expect(alive(server.pid!)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
    await client.end().catch(() => undefined);
  });
});
