import type { Document, Long } from 'bson';
import type { Catalog, StoredCollection } from './catalog';
import type { NewEntry, Oplog } from './oplog';
import { ServerError } from './server-error';
import { Transactions } from './transactions';
import type { UpdateDescription } from './update-operators';

/**
 * Writes as a primary applies them: the catalog changes and the oplog entry is appended in one
 * step, so every change stream sees exactly the writes that happened, in order. Pre- and
 * post-images are kept with the entry only when the collection has
 * `changeStreamPreAndPostImages: {enabled: true}` (set with `create` or `collMod`), as on a server.
 */
/** A write inside a multi-document transaction: its key (lsid + txnNumber) and what events carry. */
export interface TxnInfo {
  key: string;
  lsid: Document;
  txnNumber: Long;
}

export class Storage {
  readonly transactions: Transactions;

  constructor(
    readonly catalog: Catalog,
    readonly oplog: Oplog,
  ) {
    this.transactions = new Transactions(oplog);
  }

  /** Appends the entry, or holds it for the transaction's commit (and remembers how to undo the change). */
  #write(entry: NewEntry, txn: TxnInfo | undefined, undo?: { c: StoredCollection; id: unknown; before: Document | undefined }): void {
    if (!txn) {
      this.oplog.append(entry);
      return;
    }
    this.transactions.hold(txn.key, { ...entry, lsid: txn.lsid, txnNumber: txn.txnNumber });
    if (undo) this.transactions.recordUndo(txn.key, undo.c, undo.id, undo.before);
  }

  collection(db: string, coll: string): StoredCollection | undefined {
    return this.catalog.get(db, coll);
  }

  /** The collection, created (with its `create` entry) if it does not exist, as an insert does implicitly. */
  ensure(db: string, coll: string): StoredCollection {
    return this.catalog.get(db, coll) ?? this.create(db, coll, {});
  }

  create(db: string, coll: string, options: Document): StoredCollection {
    if (this.catalog.get(db, coll)) throw new ServerError(48, `Collection ${db}.${coll} already exists.`);
    validateName(db, coll);
    const c = this.catalog.add(db, coll, options);
    this.oplog.append({ op: 'create', db, coll, collectionUUID: c.uuid, operationDescription: { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' }, ...options } });
    return c;
  }

  insert(c: StoredCollection, doc: Document, txn?: TxnInfo): void {
    if (c.get(doc['_id'])) throw duplicateKey(c, doc['_id']);
    c.put(doc);
    this.#write({ op: 'insert', db: c.db, coll: c.name, collectionUUID: c.uuid, documentKey: { _id: doc['_id'] }, fullDocument: doc }, txn, { c, id: doc['_id'], before: undefined });
  }

  update(c: StoredCollection, before: Document, after: Document, description: UpdateDescription, txn?: TxnInfo): void {
    c.put(after);
    const images = c.recordsImages ? { preImage: before, postImage: after } : {};
    this.#write({ op: 'update', db: c.db, coll: c.name, collectionUUID: c.uuid, documentKey: { _id: after['_id'] }, updateDescription: description, ...images }, txn, { c, id: after['_id'], before });
  }

  replace(c: StoredCollection, before: Document, after: Document, txn?: TxnInfo): void {
    c.put(after);
    const images = c.recordsImages ? { preImage: before } : {};
    this.#write({ op: 'replace', db: c.db, coll: c.name, collectionUUID: c.uuid, documentKey: { _id: after['_id'] }, fullDocument: after, ...images }, txn, { c, id: after['_id'], before });
  }

  delete(c: StoredCollection, doc: Document, txn?: TxnInfo): void {
    c.remove(doc['_id']);
    const images = c.recordsImages ? { preImage: doc } : {};
    this.#write({ op: 'delete', db: c.db, coll: c.name, collectionUUID: c.uuid, documentKey: { _id: doc['_id'] }, ...images }, txn, { c, id: doc['_id'], before: doc });
  }

  /** Drops a collection: a `drop` entry (collection streams on it see their invalidate). False if it did not exist. */
  drop(db: string, coll: string): boolean {
    const c = this.catalog.get(db, coll);
    if (!c) return false;
    this.catalog.remove(db, coll);
    this.oplog.append({ op: 'drop', db, coll, collectionUUID: c.uuid });
    return true;
  }

  /** Drops every collection of the database (a `drop` entry each), then the `dropDatabase` entry. */
  dropDatabase(db: string): void {
    for (const c of this.catalog.collections(db)) this.drop(db, c.name);
    this.oplog.append({ op: 'dropDatabase', db });
  }

  rename(from: StoredCollection, toDb: string, toColl: string, dropTarget: boolean): void {
    const target = this.catalog.get(toDb, toColl);
    if (target) {
      if (!dropTarget) throw new ServerError(48, 'target namespace exists');
      this.drop(toDb, toColl);
    }
    validateName(toDb, toColl);
    const fromDb = from.db;
    const fromColl = from.name;
    this.catalog.rename(from, toDb, toColl);
    this.oplog.append({ op: 'rename', db: fromDb, coll: fromColl, collectionUUID: from.uuid, to: { db: toDb, coll: toColl } });
  }

  createIndexes(c: StoredCollection, specs: Document[]): number {
    let created = 0;
    for (const spec of specs) {
      if (c.indexes.some((i) => i['name'] === spec['name'])) continue;
      const index = { v: 2, ...spec };
      c.indexes.push(index);
      created++;
      this.oplog.append({ op: 'createIndexes', db: c.db, coll: c.name, collectionUUID: c.uuid, operationDescription: { indexes: [index] } });
    }
    return created;
  }

  dropIndexes(c: StoredCollection, names: string[]): void {
    for (const name of names) {
      const i = c.indexes.findIndex((x) => x['name'] === name);
      if (i < 0) throw new ServerError(27, `index not found with name [${name}]`, [], 'IndexNotFound');
      const [index] = c.indexes.splice(i, 1);
      this.oplog.append({ op: 'dropIndexes', db: c.db, coll: c.name, collectionUUID: c.uuid, operationDescription: { indexes: [index] } });
    }
  }

  /** collMod: changes the collection's options (changeStreamPreAndPostImages, validator…). */
  modify(c: StoredCollection, options: Document): Document {
    const before: Document = {};
    for (const k of Object.keys(options)) if (k in c.options) before[k] = c.options[k];
    Object.assign(c.options, options);
    this.oplog.append({ op: 'modify', db: c.db, coll: c.name, collectionUUID: c.uuid, operationDescription: options });
    return before;
  }
}

export function duplicateKey(c: StoredCollection, id: unknown): ServerError {
  return new ServerError(11000, `E11000 duplicate key error collection: ${c.ns} index: _id_ dup key: { _id: ${describeId(id)} }`);
}

function describeId(id: unknown): string {
  if (typeof id === 'string') return JSON.stringify(id);
  const hex = (id as { toHexString?: () => string })?.toHexString?.();
  if (hex) return `ObjectId('${hex}')`;
  return String(id);
}

function validateName(db: string, coll: string): void {
  if (!db || /[/\\. "$]/.test(db)) throw new ServerError(73, `Invalid database name: '${db}'`);
  if (!coll || coll.includes('$') || coll.startsWith('.')) throw new ServerError(73, `Invalid collection name: ${coll}`);
}
