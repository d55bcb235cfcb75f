import { randomUUID } from 'node:crypto';
import { Client } from '@langchain/langgraph-sdk';
import { PostgresServer, RedisServer } from '@runnel/testing';
import type { RunnableRegistry } from '../../src/registry/runnable-registry';
import { startTestGateway, type TestGateway } from '../gateway-harness';

/** A real redis-server and PostgreSQL for one spec file, and gateways on them. */
export class AgentBackends {
  private constructor(
    readonly redis: RedisServer,
    readonly postgres: PostgresServer,
    readonly postgresUri: string,
  ) {}

  static async start(): Promise<AgentBackends> {
    const [redis, postgres] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
    const db = `agents_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    return new AgentBackends(redis, postgres, await postgres.createDatabase(db));
  }

  /** A gateway serving the agent API with the graphs `register` adds; a fresh Redis prefix unless given (replicas share one). */
  async gateway(register: (r: RunnableRegistry) => void, env: Record<string, string> = {}): Promise<TestGateway & { client: Client }> {
    const gw = await startTestGateway(
      {
        POSTGRES_URI: this.postgresUri,
        GATEWAY_REDIS_URL: this.redis.url,
        AGENT_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
        DISABLE_BUILTINS: 'true',
        ...env,
      },
      { register },
    );
    return Object.assign(gw, { client: new Client({ apiUrl: gw.url }) });
  }

  async stop(): Promise<void> {
    await Promise.all([this.redis.stop(), this.postgres.stop()]);
  }
}
