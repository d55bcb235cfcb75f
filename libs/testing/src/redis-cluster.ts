import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisServer } from './redis-server';

/**
 * A real Redis Cluster on loopback: `masters` redis-servers in cluster mode (AOF, noeviction, as
 * production must run), joined by `redis-cli --cluster create`, no replicas. `url` is a seed node.
 */
export class RedisCluster {
  private constructor(readonly nodes: RedisServer[]) {}

  get url(): string {
    return this.nodes[0].url;
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        nodes.push(await RedisServer.start({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'] }));
      }
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
      await Promise.all(nodes.map((n) => waitForClusterOk(n.url)));
      return new RedisCluster(nodes);
    } catch (err) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw err;
    }
  }

  /** The node that serves `key`'s slot. */
  async nodeFor(key: string): Promise<RedisServer> {
    const probe = new Redis(this.url);
    try {
      const slot = (await probe.cluster('KEYSLOT', key)) as number;
      const slots = await probe.cluster('SLOTS');
      const owner = slots.find(([from, to]) => slot >= from && slot <= to)!;
      return this.nodes.find((n) => n.port === owner[2][1])!;
    } finally {
      probe.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

async function waitForClusterOk(url: string): Promise<void> {
  const redis = new Redis(url);
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const info = (await redis.cluster('INFO')) as string;
      if (info.includes('cluster_state:ok')) return;
      if (Date.now() > deadline) throw new Error(`cluster at ${url} not ok: ${info.slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    redis.disconnect();
  }
}
