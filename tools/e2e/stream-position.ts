import { Redis } from 'ioredis';
import { CheckpointStore } from '@runnel/checkpoint';
import { DEFAULT_PREFIX } from '@runnel/queue';
import { type Child, eventually } from '@runnel/testing';

/**
 * Whether `stream`'s checkpoint holds a resume position: the reader has opened its change stream and
 * saved where it starts. (/ready shows checkpoint_seq 0 earlier, as soon as the generation exists: a
 * write before the position is recorded is not part of the stream.)
 */
export async function positionRecorded(redisUrl: string, stream: string, prefix = DEFAULT_PREFIX): Promise<boolean> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    return (await new CheckpointStore(connection, { prefix, ttlMs: 0 }).load(stream))?.token !== undefined;
  } finally {
    connection.disconnect();
  }
}

/** Until `stream` has a recorded position; fails at once, with its output, if `reader` exits first. */
export async function waitForPosition(redisUrl: string, stream: string, reader: Child, { prefix = DEFAULT_PREFIX, timeoutMs = 60_000 } = {}): Promise<void> {
  const exited = reader.exited.then((code) => {
    throw new Error(`${reader.name} exited (${code}) before recording a position of ${stream}:\n${reader.tail()}`);
  });
  await Promise.race([eventually(`${reader.name} to record a position of ${stream}`, () => positionRecorded(redisUrl, stream, prefix), timeoutMs, 100), exited]);
}
