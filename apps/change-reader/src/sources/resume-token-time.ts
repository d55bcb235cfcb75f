import { Timestamp } from 'bson';
import type { ResumeToken } from '@runnel/checkpoint';

/**
 * The cluster time a resume token stands for, as `<seconds>.<increment>` (clusterTimeText's format),
 * or undefined. Tokens are opaque, but every server since 4.2 writes `_data` as a hex KeyString
 * that opens with the timestamp (type byte 0x82, then 4 bytes of seconds and 4 of increment, big
 * endian); Debezium reads its idle positions the same way. Best effort, for idle checkpoints only.
 */
export function tokenClusterTime(token: ResumeToken | null | undefined): string | undefined {
  const data = token?.['_data'];
  if (typeof data !== 'string' || !/^82[0-9a-f]{16}/i.test(data)) return undefined;
  return `${parseInt(data.slice(2, 10), 16)}.${parseInt(data.slice(10, 18), 16)}`;
}

/** Whether cluster time `a` (`<seconds>.<increment>`) is after `b`. */
export function laterThan(a: string, b: string): boolean {
  const [as, ai] = a.split('.').map(Number);
  const [bs, bi] = b.split('.').map(Number);
  return as > bs || (as === bs && ai > bi);
}

/** A cluster time `<seconds>.<increment>` as a bson Timestamp (what change events carry). */
export function timestampOf(clusterTime: string): Timestamp {
  const [t, i] = clusterTime.split('.').map(Number);
  return new Timestamp({ t, i });
}
