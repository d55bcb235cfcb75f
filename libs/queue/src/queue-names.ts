/**
 * Queue names and the key prefix shared by the three pipeline services. The prefix is a Redis
 * Cluster hash tag (`{…}`): every key of every queue and of the checkpoint state lands in one
 * slot, so BullMQ's multi-key scripts and our Lua scripts work on a cluster.
 */
export const DEFAULT_PREFIX = '{runnel}';

export const QUEUES = {
  /** change-reader → batch-writer: batches of change events to encode. */
  batches: 'batches',
  /** batch-writer → s3-uploader: encoded objects to store. */
  objects: 'objects',
  /** Batches that could not be encoded or stored after every retry, with the reason. */
  deadLetter: 'dead-letter',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * Not a queue: where change-reader's dead letters say they came from. A change event the reader
 * cannot turn into an envelope has no job to go back to; `dlq:replay` leaves such letters in the
 * dead-letter queue for an operator (docs/runbooks.md#dlq).
 */
export const CHANGE_EVENTS = 'change-events';
export type DeadLetterSource = QueueName | typeof CHANGE_EVENTS;

/** Checks a user-supplied prefix keeps the hash tag (a prefix without `{…}` would break on a cluster). */
export function checkPrefix(prefix: string): string | undefined {
  return /\{[^{}]+\}/.test(prefix) ? undefined : 'must contain a Redis Cluster hash tag such as {runnel}';
}
