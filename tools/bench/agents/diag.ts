// --diag: connections to the gateway's database and Redis, to count what one run costs there
// (pg_stat_statements calls per statement, INFO commandstats calls per command).
import { Redis } from 'ioredis';
import { Client as PgClient } from 'pg';

export class Diagnostics {
  private constructor(
    private readonly pg: PgClient,
    private readonly redis: Redis,
  ) {}

  static async connect(postgresUri: string, redisUrl: string): Promise<Diagnostics> {
    const pg = new PgClient({ connectionString: postgresUri });
    await pg.connect();
    await pg.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    return new Diagnostics(pg, new Redis(redisUrl));
  }

  async reset(): Promise<void> {
    await this.pg.query('SELECT pg_stat_statements_reset()');
    await this.redis.config('RESETSTAT');
  }

  async read(runs: number): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const { rows } = await this.pg.query<{ calls: number; ms: number; query: string }>(
      `SELECT calls::int AS calls, total_exec_time AS ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC`,
    );
    const total = rows.reduce((a, r) => a + r.calls, 0);
    out.pgStatementsPerRun = total / runs;
    out.pgExecMsPerRun = rows.reduce((a, r) => a + r.ms, 0) / runs;
    out.pg = rows.slice(0, 40).map((r) => ({ perRun: +(r.calls / runs).toFixed(2), query: r.query }));
    const info = await this.redis.info('commandstats');
    const cmds = [...info.matchAll(/cmdstat_(\S+?):calls=(\d+)/g)]
      .map(([, cmd, calls]) => ({ cmd, perRun: Number(calls) / runs }))
      .filter((c) => !['config', 'info'].includes(c.cmd))
      .sort((a, b) => b.perRun - a.perRun);
    out.redisCommandsPerRun = cmds.reduce((a, c) => a + c.perRun, 0);
    out.redis = cmds.map((c) => `${c.cmd} ${c.perRun.toFixed(2)}`).join(', ');
    return out;
  }

  async stop(): Promise<void> {
    await this.pg.end();
    this.redis.disconnect();
  }
}
