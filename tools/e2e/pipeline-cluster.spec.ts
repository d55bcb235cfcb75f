import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { verifyLake } from '@runnel/lake';
import { checkRedisDurability, createRedisConnection, DEFAULT_PREFIX } from '@runnel/queue';
import { eventually, freePort, RedisCluster, S3Server, ServiceProcess } from '@runnel/testing';

/**
 * The pipeline on a real three-master Redis Cluster (REDIS_CLUSTER=true): the hash tag in the key
 * prefix puts every queue, body, checkpoint and lease key in one slot, so BullMQ's and the
 * checkpoint store's multi-key scripts run on the cluster unchanged.
 */
describe('pipeline on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let s3: S3Server;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    s3 = await S3Server.start(['lake']);
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    await s3?.stop();
    await cluster?.stop();
  });

  it('checks durability on every master', async () => {
    const client = createRedisConnection(cluster.url, { cluster: true });
    try {
      expect(await checkRedisDurability(client)).toMatchObject({ appendonly: true, maxmemoryPolicy: 'noeviction', problems: [] });
      const loose = new Redis(cluster.nodes[2].url);
      await loose.config('SET', 'maxmemory-policy', 'allkeys-lru');
      loose.disconnect();
      const { problems } = await checkRedisDurability(client);
      expect(problems).toEqual([expect.stringMatching(new RegExp(`^node 127\\.0\\.0\\.1:${cluster.nodes[2].port}: maxmemory-policy is "allkeys-lru"`))]);
      const fix = new Redis(cluster.nodes[2].url);
      await fix.config('SET', 'maxmemory-policy', 'noeviction');
      fix.disconnect();
    } finally {
      client.disconnect();
    }
  });

  it('moves every synthetic event to S3 exactly once, all its keys in the hash tag slot', async () => {
    const COUNT = 6_000;
    // The seed is a master that does not own the pipeline's slot: a client that ignored the cluster
    // would be told MOVED on its first key, so the services must really follow the cluster.
    const owner = await cluster.nodeFor(DEFAULT_PREFIX);
    const seed = cluster.nodes.find((n) => n !== owner)!;
    const plain = new Redis(seed.url);
    await expect(plain.set(`${DEFAULT_PREFIX}:probe`, '1')).rejects.toThrow(/MOVED/);
    plain.disconnect();
    const common = { REDIS_URL: seed.url, REDIS_CLUSTER: 'true', LOG_LEVEL: 'warn', HOST: '127.0.0.1' };
    const readerPort = await freePort();
    services.push(
      new ServiceProcess('change-reader', {
        ...common,
        METRICS_PORT: String(readerPort),
        SOURCE: 'synthetic',
        SYNTHETIC_COUNT: String(COUNT),
        SYNTHETIC_DOC_BYTES: '256',
        BATCH_SIZE: '500',
        BATCH_TIMEOUT_MS: '300',
      }),
      new ServiceProcess('batch-writer', { ...common, METRICS_PORT: String(await freePort()), FORMAT: 'parquet', COMPRESSION: 'zstd', S3_PREFIX: 'cluster' }),
      new ServiceProcess('s3-uploader', {
        ...common,
        METRICS_PORT: String(await freePort()),
        S3_BUCKET: 'lake',
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        S3_CONDITIONAL_WRITES: 'false',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      }),
    );
    await eventually(
      'the checkpoint to reach every event',
      async () => {
        for (const s of services) if (!s.running) throw new Error(`${s.app} exited: ${s.stderr || s.stdout.slice(-2000)}`);
        const res = await fetch(`http://127.0.0.1:${readerPort}/ready`).catch(() => undefined);
        if (!res) return undefined;
        const body = (await res.json()) as { checks?: { reader?: { detail?: { checkpoint_seq?: number } } } };
        return (body.checks?.reader?.detail?.checkpoint_seq ?? 0) >= COUNT;
      },
      90_000,
      250,
    );

    const client = new S3Client(s3.clientConfig);
    try {
      const [report] = await verifyLake(client, 'lake', 'cluster/');
      expect(report).toMatchObject({ stream: 'synthetic', events: COUNT, maxSeq: COUNT, missing: 0, duplicates: 0, badObjects: [] });
    } finally {
      client.destroy();
    }
    // Every key the pipeline wrote sits on the master that owns {runnel}'s slot; the others hold none.
    for (const node of cluster.nodes) {
      const r = new Redis(node.url);
      const keys = await r.keys('*');
      r.disconnect();
      if (node === owner) expect(keys.filter((k) => k.startsWith(`${DEFAULT_PREFIX}:`)).length).toBeGreaterThan(0);
      expect(keys.filter((k) => !k.startsWith(DEFAULT_PREFIX))).toEqual([]);
      if (node !== owner) expect(keys).toEqual([]);
    }
  }, 120_000);
});
