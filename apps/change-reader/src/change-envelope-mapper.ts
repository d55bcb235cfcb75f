import { EJSON } from 'bson';
import type { ChangeEnvelope } from '@runnel/lake/records';
import type { SourceChange } from './sources/change-source';

const ejson = (value: unknown): string | null =>
  value === undefined || value === null ? null : EJSON.stringify(value as Record<string, unknown>, { relaxed: false });

/** `<seconds>.<increment>` of a bson Timestamp: sorts and reads back exactly. */
export function clusterTimeText(ts: SourceChange['clusterTime']): string {
  return ts ? `${ts.getHighBits() >>> 0}.${ts.getLowBits() >>> 0}` : '0.0';
}

export function clusterSeconds(clusterTime: string): number {
  return parseInt(clusterTime, 10); // stops at the '.'
}

/** Thrown for a change event Runnel cannot place (no namespace, no cluster time): dead-lettered with this reason. */
export class MalformedChangeError extends Error {
  constructor(reason: string) {
    super(`malformed change event: ${reason}`);
    this.name = 'MalformedChangeError';
  }
}

/** Driver change event → the envelope every format writes. BSON values become canonical Extended JSON. */
export function toEnvelope(change: SourceChange, stream: string, seq: number): ChangeEnvelope {
  if (!change.ns?.db) throw new MalformedChangeError('no ns.db');
  if (!change.clusterTime) throw new MalformedChangeError('no clusterTime');
  return {
    operation: change.operationType,
    database: change.ns.db,
    collection: change.ns.coll ?? '',
    document_key: ejson(change.documentKey),
    full_document: ejson(change.fullDocument),
    full_document_before_change: ejson(change.fullDocumentBeforeChange),
    update_description: ejson(change.updateDescription),
    cluster_time: clusterTimeText(change.clusterTime),
    wall_time: change.wallTime instanceof Date ? change.wallTime.toISOString() : null,
    txn_number: change.txnNumber === undefined || change.txnNumber === null ? null : change.txnNumber.toString(),
    lsid: ejson(change.lsid),
    stream,
    seq,
  };
}
