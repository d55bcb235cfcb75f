import { EJSON } from 'bson';
import type { ChangeEnvelope } from '@runnel/lake/records';
import type { SourceChange } from './sources/change-source';

/**
 * Canonical Extended JSON: every BSON type keeps its type in the text (a bson Double 5.0 is
 * `{"$numberDouble":"5.0"}`, an Int32 `{"$numberInt":"5"}`). That needs the driver to hand over
 * BSON number types (promoteValues: false): a double the driver has already turned into the JS
 * number 5 can only be written as an int.
 */
const ejson = (value: unknown): string | null =>
  value === undefined || value === null ? null : EJSON.stringify(value as Record<string, unknown>, { relaxed: false });

/** `<seconds>.<increment>` of a bson Timestamp: the exact value (it does not sort: see event_time). */
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

/** A rename's target as `db.coll` (`db` alone if the event names no collection), or null. */
function toNamespace(to: SourceChange['to'] | null): string | null {
  // Checked, not trusted: the event comes from outside (any server version, any source).
  if (!to || typeof to.db !== 'string' || to.db === '') return null;
  return typeof to.coll === 'string' && to.coll !== '' ? `${to.db}.${to.coll}` : to.db;
}

/** Wall time as ISO-8601 UTC; a Date outside JavaScript's range (Invalid Date) is null, not a RangeError. */
function wallTimeText(wallTime: unknown): string | null {
  return wallTime instanceof Date && !Number.isNaN(wallTime.getTime()) ? wallTime.toISOString() : null;
}

// Events come in cluster-time order, many in the same second: the ISO text of the last second is
// kept rather than formatted again for every event (the reader's per-event cost is measured).
let lastSeconds = -1;
let lastIso = '';
function eventTime(seconds: number): string {
  if (seconds !== lastSeconds) [lastSeconds, lastIso] = [seconds, new Date(seconds * 1000).toISOString()];
  return lastIso;
}

/**
 * Driver change event → the envelope every format writes. BSON values become canonical Extended
 * JSON. `generation` and `seq` are the event's position: seq counts from 1 within the stream's
 * generation.
 */
export function toEnvelope(change: SourceChange, stream: string, generation: number, seq: number): ChangeEnvelope {
  if (!change.ns?.db) throw new MalformedChangeError('no ns.db');
  if (!change.clusterTime) throw new MalformedChangeError('no clusterTime');
  const seconds = change.clusterTime.getHighBits() >>> 0;
  const increment = change.clusterTime.getLowBits() >>> 0;
  const coll = change.ns.coll;
  return {
    operation: change.operationType,
    database: change.ns.db,
    // Database-level events (dropDatabase) have no collection: null, never ''.
    collection: typeof coll === 'string' && coll !== '' ? coll : null,
    document_key: ejson(change.documentKey),
    full_document: ejson(change.fullDocument),
    full_document_before_change: ejson(change.fullDocumentBeforeChange),
    update_description: ejson(change.updateDescription),
    operation_description: ejson(change.operationDescription),
    to_namespace: toNamespace(change.to),
    cluster_time: `${seconds}.${increment}`,
    event_time: eventTime(seconds),
    cluster_time_increment: increment,
    wall_time: wallTimeText(change.wallTime),
    txn_number: change.txnNumber === undefined || change.txnNumber === null ? null : change.txnNumber.toString(),
    lsid: ejson(change.lsid),
    stream,
    generation,
    seq,
  };
}
