import type { Document, Long } from 'bson';
import type { Catalog, StoredCollection } from './catalog';
import type { Oplog } from './oplog';
import { ServerError } from './server-error';
import type { UpdateDescription } from './update-operators';

/**
 * Writes as a primary applies them: the catalog changes and the oplog entry is appended in one
 * step, so every change stream sees exactly the writes that happened, in order. Pre- and
 * post-images are kept with the entry only when the collection has
 * `changeStreamPreAndPostImages: {enabled: true}` (set with `create` or `collMod`), as on a server.
 */
export interface TxnInfo {
  lsid: Document;
  txnNumber: Long;
}

export class Storage {
  constructor(
    readonly catalog: Catalog,
    readonly oplog: Oplog,
  ) {}

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
    this.oplog.append({ op: 'insert', db: c.db, coll: c.name, collectionUUID: c.uuid, documentKey: { _id: doc['_id'] }, fullDocument: doc, ...txn });
  }

  update(c: StoredCollection, before: Document, after: Document, description: UpdateDescription, txn?: TxnInfo): void {
    c.put(after);
    const images = c.recordsImages ? { preImage: before, postImage: after } : {};
    this.oplog.append({ op: 'update', db: c.db, coll: c.name, collectionUUID: c.uuid, documentKey: { _id: after['_id'] }, updateDescription: description, ...images, ...txn });
  }

  replace(c: StoredCollection, before: Document, after: Document, txn?: TxnInfo): void {
    c.put(after);
    const images = c.recordsImages ? { preImage: before } : {};
    this.oplog.append({ op: 'replace', db: c.db, coll: c.name, collectionUUID: c.uuid, documentKey: { _id: after['_id'] }, fullDocument: after, ...images, ...txn });
  }

  delete(c: StoredCollection, doc: Document, txn?: TxnInfo): void {
    c.remove(doc['_id']);
    const images = c.recordsImages ? { preImage: doc } : {};
    this.oplog.append({ op: 'delete', db: c.db, coll: c.name, collectionUUID: c.uuid, documentKey: { _id: doc['_id'] }, ...images, ...txn });
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
