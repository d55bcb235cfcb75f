import type { Binary, Document } from 'bson';
import { newUuid, valueKey } from './bson-values';
import { IdIndex } from './id-index';

/**
 * The data: databases, their collections (with a UUID, options, index specs) and documents keyed
 * by `_id` under the query language's equality. Stored documents are never modified in place
 * (updates build a new one), so the oplog and open cursors can hold references to them.
 */
export class StoredCollection {
  readonly docs = new Map<string, Document>();
  readonly indexes: Document[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }];
  /** The `_id` index: every `_id` in BSON order, maintained on insert and delete. */
  readonly idIndex = new IdIndex();

  constructor(
    public db: string,
    public name: string,
    public options: Document = {},
    readonly uuid: Binary = newUuid(),
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Whether writes record pre- and post-images (`changeStreamPreAndPostImages: {enabled: true}`). */
  get recordsImages(): boolean {
    const o = this.options['changeStreamPreAndPostImages'] as Document | undefined;
    return o !== undefined && Boolean(o['enabled'] === true || (typeof o['enabled'] === 'object' && o['enabled'] !== null && Number(o['enabled']) !== 0));
  }

  get(id: unknown): Document | undefined {
    return this.docs.get(valueKey(id));
  }

  put(doc: Document): void {
    const key = valueKey(doc['_id']);
    if (!this.docs.has(key)) this.idIndex.insert(doc['_id'], key);
    this.docs.set(key, doc);
  }

  remove(id: unknown): void {
    if (this.docs.delete(valueKey(id))) this.idIndex.delete(id);
  }
}

export class Catalog {
  readonly #dbs = new Map<string, Map<string, StoredCollection>>();

  get(db: string, coll: string): StoredCollection | undefined {
    return this.#dbs.get(db)?.get(coll);
  }

  add(db: string, coll: string, options: Document = {}): StoredCollection {
    let colls = this.#dbs.get(db);
    if (!colls) this.#dbs.set(db, (colls = new Map()));
    const c = new StoredCollection(db, coll, options);
    colls.set(coll, c);
    return c;
  }

  remove(db: string, coll: string): void {
    const colls = this.#dbs.get(db);
    colls?.delete(coll);
    if (colls?.size === 0) this.#dbs.delete(db);
  }

  /** Moves a collection to another name (and database), keeping its UUID and documents. */
  rename(c: StoredCollection, db: string, coll: string): void {
    this.remove(c.db, c.name);
    c.db = db;
    c.name = coll;
    let colls = this.#dbs.get(db);
    if (!colls) this.#dbs.set(db, (colls = new Map()));
    colls.set(coll, c);
  }

  collections(db: string): StoredCollection[] {
    return [...(this.#dbs.get(db)?.values() ?? [])];
  }

  databases(): string[] {
    return [...this.#dbs.keys()];
  }
}
