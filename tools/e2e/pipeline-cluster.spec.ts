import { Redis } from 'ioredis';
import { checkRedisDurability, createRedisConnection, DEFAULT_PREFIX } from '@runnel/queue';
import { verifyLake } from '@runnel/lake';
import { PipelineUnderTest, RedisCluster } from '@runnel/testing';

/**
 * The pipeline on a real three-master Redis Cluster (REDIS_CLUSTER=true): the hash tag in the key
 * prefix puts every queue, body, checkpoint and lease key in one slot, so BullMQ's and the
 * checkpoint store's multi-key scripts run on the cluster unchanged.
 */
describe('pipeline on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let pipeline: PipelineUnderTest | undefined;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  });
  afterAll(async () => {
    await pipeline?.stop('SIGKILL'); // and its s3rver
    await cluster?.stop();
  });

  it('checks durability on every master', async () => {
    const client = createRedisConnection(cluster.url, { cluster: true });
    try {
      expect(await checkRedisDurability(client)).toMatchObject({ appendonly: true, maxmemoryPolicy: 'noeviction', problems: [] });
      const loose = new Redis(cluster.nodes[2].url);
      try {
        await loose.config('SET', 'maxmemory-policy', 'allkeys-lru');
        const { problems } = await checkRedisDurability(client);
        expect(problems).toEqual([expect.stringMatching(new RegExp(`^node 127\\.0\\.0\\.1:${cluster.nodes[2].port}: maxmemory-policy is "allkeys-lru"`))]);
      } finally {
        await loose.config('SET', 'maxmemory-policy', 'noeviction'); // the next test needs a durable cluster
        loose.disconnect();
      }
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
    pipeline = await PipelineUnderTest.start({
      redis: { url: seed.url, cluster: true },
      s3Prefix: 'cluster',
      reader: { SYNTHETIC_COUNT: String(COUNT), SYNTHETIC_DOC_BYTES: '256', BATCH_SIZE: '500', BATCH_TIMEOUT_MS: '300' },
      writer: { FORMAT: 'parquet', COMPRESSION: 'zstd' },
    });
    await pipeline.drained(COUNT);
    const [report] = await pipeline.lake(verifyLake);
    expect(report).toMatchObject({ stream: 'synthetic', events: COUNT, maxSeq: COUNT, missing: 0, duplicates: 0, badObjects: [] });
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
