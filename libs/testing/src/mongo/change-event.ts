import { type Document, EJSON } from 'bson';
import type { OplogEntry } from './oplog';
import type { ResumeToken } from './resume-token';
import { ServerError } from './server-error';

/**
 * Turns an oplog entry into the change event a stream shows, with that stream's options:
 * `fullDocument` (`updateLookup` reads the collection NOW — the document as it is when the event
 * is read, or null once it is gone; `whenAvailable`/`required` use the post-image recorded at write
 * time), `fullDocumentBeforeChange`, and `showExpandedEvents` (collectionUUID, operationDescription,
 * disambiguatedPaths). Field order follows the server's.
 */
export type FullDocumentMode = 'default' | 'updateLookup' | 'whenAvailable' | 'required';
export type BeforeChangeMode = 'off' | 'whenAvailable' | 'required';

export interface RenderOptions {
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: BeforeChangeMode;
  showExpandedEvents: boolean;
  /** The document with this key in that collection now, or null. */
  lookup: (db: string, coll: string, documentKey: Document) => Document | null;
}

/** Operation types only streams opened with `showExpandedEvents` see. */
export const EXPANDED_OPS: ReadonlySet<string> = new Set(['create', 'createIndexes', 'dropIndexes', 'modify']);

export function renderEvent(e: OplogEntry, token: ResumeToken, o: RenderOptions): Document {
  const ev: Document = { _id: token, operationType: e.op, clusterTime: e.ts, wallTime: e.wallTime };
  if (o.showExpandedEvents && e.collectionUUID && e.op !== 'dropDatabase') ev['collectionUUID'] = e.collectionUUID;
  const ns = e.coll === undefined ? { db: e.db } : { db: e.db, coll: e.coll };
  switch (e.op) {
    case 'insert':
    case 'replace':
      ev['fullDocument'] = e.fullDocument;
      ev['ns'] = ns;
      ev['documentKey'] = e.documentKey;
      break;
    case 'update':
    case 'delete':
      ev['ns'] = ns;
      ev['documentKey'] = e.documentKey;
      if (e.op === 'update') {
        const d = e.updateDescription!;
        ev['updateDescription'] = o.showExpandedEvents
          ? { updatedFields: d.updatedFields, removedFields: d.removedFields, truncatedArrays: d.truncatedArrays, disambiguatedPaths: {} }
          : { updatedFields: d.updatedFields, removedFields: d.removedFields, truncatedArrays: d.truncatedArrays };
      }
      break;
    case 'rename':
      ev['ns'] = ns;
      ev['to'] = e.to;
      if (o.showExpandedEvents) ev['operationDescription'] = { to: e.to };
      break;
    case 'drop':
    case 'dropDatabase':
      ev['ns'] = ns;
      break;
    default:
      ev['ns'] = ns;
      if (e.operationDescription) ev['operationDescription'] = e.operationDescription;
  }
  if (e.txnNumber !== undefined) {
    ev['txnNumber'] = e.txnNumber;
    ev['lsid'] = e.lsid;
  }
  if ((e.op === 'update' || e.op === 'replace' || e.op === 'delete') && o.fullDocumentBeforeChange !== 'off') {
    if (!e.preImage && o.fullDocumentBeforeChange === 'required') {
      throw new ServerError(47, `Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event: ${describe(ev)}`);
    }
    ev['fullDocumentBeforeChange'] = e.preImage ?? null;
  }
  if (e.op === 'update' && o.fullDocument !== 'default') {
    let post: Document | null;
    if (o.fullDocument === 'updateLookup') post = o.lookup(e.db, e.coll!, e.documentKey!);
    else post = e.postImage ?? null;
    if (!post && o.fullDocument === 'required') {
      throw new ServerError(47, `Change stream was configured to require a post-image for all update events, but the post-image was not found for event: ${describe(ev)}`);
    }
    ev['fullDocument'] = post;
  }
  return ev;
}

export function renderInvalidate(e: OplogEntry, token: ResumeToken): Document {
  return { _id: token, operationType: 'invalidate', clusterTime: e.ts, wallTime: e.wallTime };
}

function describe(ev: Document): string {
  return EJSON.stringify({ _id: ev['_id'], ns: ev['ns'], documentKey: ev['documentKey'] }, { relaxed: true });
}
