/**
 * npm run dlq:replay
 *
 * Puts every dead-lettered batch or object back on the queue it failed in, under its original job
 * id, and empties the dead-letter queue. Run it after fixing what the reasons in the DLQ name
 * (see docs/runbooks.md). Reads REDIS_URL and QUEUE_PREFIX like the services.
 */
import { Queue } from 'bullmq';
import { DEFAULT_PREFIX, createRedisConnection, QUEUES, replayDeadLetters } from '@runnel/queue';

async function main(): Promise<void> {
  const redis = createRedisConnection(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
  try {
    const prefix = process.env.QUEUE_PREFIX || DEFAULT_PREFIX;
    const n = await replayDeadLetters(redis, prefix);
    process.stdout.write(`replayed ${n} dead-lettered job${n === 1 ? '' : 's'}\n`);
    const dlq = new Queue(QUEUES.deadLetter, { connection: redis, prefix });
    const left = await dlq.count();
    await dlq.close();
    // Change events the reader could not read have no queue to go back to (docs/runbooks.md#dlq).
    if (left > 0) process.stdout.write(`${left} left in the dead-letter queue: change events change-reader could not read; see docs/runbooks.md#dlq\n`);
  } finally {
    await redis.quit();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`dlq:replay: ${err.message}\n`);
  process.exit(1);
});
