import type { ResumeToken } from '@runnel/checkpoint';
import { documentKeyOf } from './document-key';

/**
 * Where a snapshot stands, carried inside the stream's resume token so that the checkpoint — the
 * one fenced record of "how far the lake is complete" — also says how far the snapshot is. The
 * token keeps the change stream position P's `_data` at the top (what tokenClusterTime and the
 * idle checkpoint's cluster time read), and adds `runnel_snapshot`; a token with that field is
 * never sent to MongoDB (SnapshotSource strips it and streams from `position` once the snapshot
 * is over).
 */
export interface SnapshotPosition {
  /** P: the change stream's position taken before the first document was read; streaming resumes exactly there. */
  position: ResumeToken;
  /** Absent at the start token (nothing read yet). */
  at?: SnapshotRowPosition;
}

/** Right after one snapshot row. */
export interface SnapshotRowPosition {
  /** The collection (`db.coll`) the row is from. */
  namespace: string;
  /** Canonical EJSON of the `_id` the row's chunk starts after; null for a collection's first chunk. The chunk's key. */
  chunkAfter: string | null;
  /** The row's index in its chunk. */
  row: number;
  /** Canonical EJSON of the row's `_id`: where to read on when the chunk's stored rows are gone. */
  id: string;
  /** The row's ordinal in its collection and in the whole snapshot (from 1): progress survives a restart. */
  nsRow: number;
  n: number;
}

const FIELD = 'runnel_snapshot';

/**
 * A row's token, built for every row but written out (JSON) only for a batch's first and last
 * rows: the row's `_id` is spelled as canonical EJSON when it is written, not per row.
 */
export function rowToken(position: ResumeToken, at: Omit<SnapshotRowPosition, 'id'>, rowId: unknown): ResumeToken {
  const state = { position, ...at, rowId };
  Object.defineProperty(state, 'rowId', { enumerable: false });
  Object.defineProperty(state, 'toJSON', { enumerable: false, value: () => ({ position, ...at, id: documentKeyOf(rowId) }) });
  return { ...(typeof position['_data'] === 'string' ? { _data: position['_data'] } : {}), [FIELD]: state };
}

export function snapshotToken(p: SnapshotPosition): ResumeToken {
  return { ...(typeof p.position['_data'] === 'string' ? { _data: p.position['_data'] } : {}), [FIELD]: p.at ? { position: p.position, ...p.at } : { position: p.position } };
}

/** The snapshot position a token carries, or undefined for a change stream token. */
export function snapshotPositionOf(token: ResumeToken | undefined): SnapshotPosition | undefined {
  const raw = token?.[FIELD] as { toJSON?: () => unknown } | undefined;
  // A token of this process (rowToken) spells its row's id only when written out.
  const s = (typeof raw?.toJSON === 'function' ? raw.toJSON() : raw) as (Partial<SnapshotRowPosition> & { position?: ResumeToken }) | undefined;
  if (!s || typeof s !== 'object' || !s.position || typeof s.position !== 'object') return undefined;
  if (typeof s.namespace !== 'string' || typeof s.row !== 'number' || typeof s.id !== 'string') return { position: s.position };
  const at = { namespace: s.namespace, chunkAfter: typeof s.chunkAfter === 'string' ? s.chunkAfter : null, row: s.row, id: s.id, nsRow: Number(s.nsRow ?? 0), n: Number(s.n ?? 0) };
  return { position: s.position, at };
}
