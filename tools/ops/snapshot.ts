/**
 * npm run snapshot -- <db.collection> [--stream=<stream>]     re-snapshot one collection, live
 * npm run snapshot -- --list --stream=<stream>                the stream's requests and their state
 *
 * Asks the change-reader that holds the stream's lease to read the collection again, chunk by chunk,
 * while its change events keep flowing (apps/change-reader/src/snapshot/incremental-snapshot.ts):
 * the request goes into Redis (`<QUEUE_PREFIX>:snapshot-requests:{<stream>}`, a hash of JSON
 * requests), the reader takes it up at its next checkpointed idle position or change event and
 * reports progress in /ready (`snapshot`) and the runnel_snapshot_* metrics. Environment: REDIS_URL
 * (default redis://127.0.0.1:6379), REDIS_CLUSTER and QUEUE_PREFIX (default as the services'), as
 * the services have them. The stream defaults to the collection's database (a reader with
 * MONGODB_DATABASE set and no MONGODB_COLLECTIONS); name it for other scopes (`shop.orders`,
 * `shop.{a,b}`, `*`). Exit 0 with the request id; 2 on bad arguments or when Redis cannot be reached.
 */
import { ResnapshotRequests } from '@runnel/checkpoint';
import { checkPrefix, createRedisConnection, DEFAULT_PREFIX } from '@runnel/queue';

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) || undefined;
const positional = args.filter((a) => !a.startsWith('--'));
const fail = (message: string): never => {
  process.stderr.write(`snapshot: ${message}\n`);
  process.exit(2);
};

async function main(): Promise<void> {
  const list = args.includes('--list');
  const namespace = positional[0];
  if (namespace !== undefined && !/^[^.\s$]+\.[^\s$]+$/.test(namespace)) fail(`name the collection as <database>.<collection> (e.g. npm run snapshot -- shop.orders), not ${namespace}`);
  if (!list && namespace === undefined) fail('name the collection as <database>.<collection>, e.g. npm run snapshot -- shop.orders');
  const stream = flag('stream') ?? namespace?.split('.')[0];
  if (!stream) fail('--list needs --stream=<stream>');
  const prefix = process.env['QUEUE_PREFIX'] || DEFAULT_PREFIX;
  const badPrefix = checkPrefix(prefix);
  if (badPrefix) fail(`QUEUE_PREFIX ${badPrefix}`);
  const url = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    return fail('REDIS_URL is not a URL');
  }
  const redis = createRedisConnection(url, { cluster: process.env['REDIS_CLUSTER'] === 'true', maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined); // reported below, once, without the driver's stack
  try {
    await redis.connect().catch(() => fail(`cannot reach Redis at REDIS_URL (${host})`));
    const requests = new ResnapshotRequests(redis, prefix, stream as string);
    if (list) {
      const all = await requests.all();
      if (all.length === 0) process.stdout.write(`no re-snapshot requests for stream ${stream}\n`);
      for (const r of all) {
        const state = r.refused ? `refused: ${r.refused}` : r.doneAt ? 'done' : r.startedAfter ? 'running' : 'pending';
        process.stdout.write(`${r.id}  ${r.namespace}  requested ${r.requestedAt}  ${state}\n`);
      }
      return;
    }
    const r = await requests.request(namespace as string);
    process.stdout.write(`re-snapshot of ${r.namespace} requested for stream ${stream}: id ${r.id}\n` + 'the reader holding the lease starts it at its next checkpointed position; watch /ready (snapshot) or runnel_snapshot_rows_total\n');
  } finally {
    redis.disconnect();
  }
}

main().catch((err: Error) => fail(err.message));
