import { type Document, Int32 } from 'bson';
import { bool } from './bson-values';
import { compileFilter } from './query-matcher';
import { openQueryCursor } from './read-commands';
import { ServerError } from './server-error';
import type { CommandHandler } from './server-state';

/**
 * Namespaces: `create` (with `changeStreamPreAndPostImages`), `collMod`, `drop` (ok on a missing
 * collection, as since 7.0), `dropDatabase`, `renameCollection` (on admin, `from`/`to` full
 * names), `listCollections`, `listDatabases`, `createIndexes`, `listIndexes`, `dropIndexes`.
 * Every change is an oplog entry: drop/rename invalidate collection streams, and streams opened
 * with `showExpandedEvents` see create/createIndexes/dropIndexes/modify.
 */
const CREATE_OPTIONS = new Set(['capped', 'size', 'max', 'validator', 'validationLevel', 'validationAction', 'changeStreamPreAndPostImages', 'collation', 'expireAfterSeconds', 'clusteredIndex', 'storageEngine', 'indexOptionDefaults', 'timeseries', 'viewOn', 'pipeline', 'comment']);

function optionsOf(body: Document, command: string): Document {
  const options: Document = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === command || k.startsWith('$') || k === 'lsid' || k === 'txnNumber' || k === 'writeConcern' || k === 'comment' || k === 'autocommit' || k === 'startTransaction' || k === 'apiVersion') continue;
    if (!CREATE_OPTIONS.has(k) && command === 'create') throw new ServerError(40415, `BSON field 'create.${k}' is an unknown field.`);
    options[k] = v;
  }
  return options;
}

function splitNs(ns: unknown): [string, string] {
  if (typeof ns !== 'string' || !ns.includes('.')) throw new ServerError(73, `Invalid namespace specified '${String(ns)}'`);
  const dot = ns.indexOf('.');
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

function collInfo(c: { name: string; options: Document; uuid: unknown }): Document {
  return { name: c.name, type: 'collection', options: c.options, info: { readOnly: false, uuid: c.uuid }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } };
}

export const CATALOG_COMMANDS: Record<string, CommandHandler> = {
  create: (state, req) => {
    const name = req.body['create'];
    if (typeof name !== 'string') throw new ServerError(73, 'Invalid collection name');
    state.storage.create(req.db, name, optionsOf(req.body, 'create'));
    return { ok: 1 };
  },
  collMod: (state, req) => {
    const name = req.body['collMod'];
    const c = typeof name === 'string' ? state.storage.collection(req.db, name) : undefined;
    if (!c) throw new ServerError(26, `ns does not exist: ${req.db}.${String(name)}`);
    state.storage.modify(c, optionsOf(req.body, 'collMod'));
    return { ok: 1 };
  },
  drop: (state, req) => {
    const name = req.body['drop'];
    if (typeof name !== 'string') throw new ServerError(73, 'Invalid collection name');
    const c = state.storage.collection(req.db, name);
    const nIndexesWas = c?.indexes.length ?? 0;
    state.storage.drop(req.db, name);
    return c ? { nIndexesWas: new Int32(nIndexesWas), ns: `${req.db}.${name}`, ok: 1 } : { ok: 1 };
  },
  dropDatabase: (state, req) => {
    state.storage.dropDatabase(req.db);
    return { dropped: req.db, ok: 1 };
  },
  renameCollection: (state, req) => {
    if (req.db !== 'admin') throw new ServerError(13, 'renameCollection may only be run against the admin database.', [], 'Unauthorized');
    const [fromDb, fromColl] = splitNs(req.body['renameCollection']);
    const [toDb, toColl] = splitNs(req.body['to']);
    const c = state.storage.collection(fromDb, fromColl);
    if (!c) throw new ServerError(26, 'source namespace does not exist');
    if (fromDb === toDb && fromColl === toColl) throw new ServerError(20, "Can't rename a collection to itself");
    state.storage.rename(c, toDb, toColl, bool(req.body['dropTarget']));
    return { ok: 1 };
  },
  listCollections: (state, req) => {
    const filter = compileFilter(req.body['filter'] as Document | undefined);
    const nameOnly = bool(req.body['nameOnly']);
    const docs = state.catalog
      .collections(req.db)
      .map((c) => (nameOnly ? { name: c.name, type: 'collection' } : collInfo(c)))
      .filter(filter);
    return openQueryCursor(state, `${req.db}.$cmd.listCollections`, docs, undefined);
  },
  listDatabases: (state, req) => {
    const nameOnly = bool(req.body['nameOnly']);
    const filter = compileFilter(req.body['filter'] as Document | undefined);
    const databases = state.catalog
      .databases()
      .map((name) => (nameOnly ? { name } : { name, sizeOnDisk: 8192, empty: false }))
      .filter(filter);
    return nameOnly ? { databases, ok: 1 } : { databases, totalSize: 8192 * databases.length, totalSizeMb: 0, ok: 1 };
  },
  createIndexes: (state, req) => {
    const name = req.body['createIndexes'];
    if (typeof name !== 'string') throw new ServerError(73, 'Invalid collection name');
    const specs = req.body['indexes'];
    if (!Array.isArray(specs) || specs.length === 0) throw new ServerError(2, 'Must specify at least one index to create');
    const existed = state.storage.collection(req.db, name);
    const c = state.storage.ensure(req.db, name);
    const before = c.indexes.length;
    state.storage.createIndexes(c, specs as Document[]);
    return { numIndexesBefore: new Int32(before), numIndexesAfter: new Int32(c.indexes.length), createdCollectionAutomatically: !existed, ok: 1 };
  },
  listIndexes: (state, req) => {
    const name = req.body['listIndexes'];
    const c = typeof name === 'string' ? state.storage.collection(req.db, name) : undefined;
    if (!c) throw new ServerError(26, `ns does not exist: ${req.db}.${String(name)}`);
    return openQueryCursor(state, `${req.db}.$cmd.listIndexes.${c.name}`, c.indexes, undefined);
  },
  dropIndexes: (state, req) => {
    const name = req.body['dropIndexes'];
    const c = typeof name === 'string' ? state.storage.collection(req.db, name) : undefined;
    if (!c) throw new ServerError(26, `ns not found ${req.db}.${String(name)}`);
    const index = req.body['index'];
    const before = c.indexes.length;
    const names = index === '*' ? c.indexes.filter((i) => i['name'] !== '_id_').map((i) => i['name'] as string) : Array.isArray(index) ? (index as string[]) : [typeof index === 'string' ? index : (c.indexes.find((i) => JSON.stringify(i['key']) === JSON.stringify(index))?.['name'] as string)];
    if (names.includes('_id_')) throw new ServerError(72, 'cannot drop _id index');
    state.storage.dropIndexes(c, names);
    return { nIndexesWas: new Int32(before), ok: 1 };
  },
};
