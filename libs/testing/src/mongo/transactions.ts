import type { Binary, Document } from 'bson';
import type { StoredCollection } from './catalog';
import { num } from './bson-values';
import type { NewEntry, Oplog } from './oplog';

/**
 * Multi-document transactions, as far as change streams see them: the oplog entries of a
 * transaction are held until `commitTransaction` and then written together under ONE cluster time
 * (as a primary writes a transaction's applyOps entry), so every event of a transaction has the same
 * `clusterTime` and carries its `lsid` and `txnNumber`; `abortTransaction` writes nothing and undoes
 * the transaction's changes to the data.
 *
 * Not isolation: the writes are visible to other readers before the commit (the stand-in has one
 * version of each document).
 */
interface Open {
  entries: NewEntry[];
  /** How to put the data back, newest change first. */
  undo: (() => void)[];
}

export class Transactions {
  readonly #open = new Map<string, Open>();
  readonly #committed = new Set<string>();

  constructor(readonly oplog: Oplog) {}

  /** The transaction a command belongs to (lsid + txnNumber with autocommit: false), or undefined. */
  static key(body: Document): string | undefined {
    if (body['autocommit'] === undefined) return undefined;
    const lsid = body['lsid'] as Document | undefined;
    const txn = num(body['txnNumber']);
    const id = lsid?.['id'] as Binary | undefined;
    if (!id || txn === undefined) return undefined;
    return `${id.toString('hex')}:${txn}`;
  }

  #get(key: string): Open {
    let t = this.#open.get(key);
    if (!t) this.#open.set(key, (t = { entries: [], undo: [] }));
    return t;
  }

  /** Holds an oplog entry of the transaction until it commits. */
  hold(key: string, entry: NewEntry): void {
    this.#get(key).entries.push(entry);
  }

  /** Remembers how to undo a change to one document (`before` undefined: it did not exist). */
  recordUndo(key: string, c: StoredCollection, id: unknown, before: Document | undefined): void {
    this.#get(key).undo.push(() => (before === undefined ? c.remove(id) : c.put(before)));
  }

  /** Writes the held entries under one cluster time. Committing again is a no-op (a retried commit). */
  commit(key: string): boolean {
    const t = this.#open.get(key);
    this.#open.delete(key);
    if (!t) return this.#committed.has(key);
    if (t.entries.length > 0) this.oplog.appendAll(t.entries);
    this.#committed.add(key);
    if (this.#committed.size > 10_000) this.#committed.delete(this.#committed.values().next().value as string);
    return true;
  }

  abort(key: string): boolean {
    const t = this.#open.get(key);
    this.#open.delete(key);
    if (!t) return false;
    for (let i = t.undo.length - 1; i >= 0; i--) t.undo[i]();
    return true;
  }
}
