import { calculateObjectSize, type Document, Int32, type Long, ObjectId, type Timestamp } from 'bson';
import type { StoredCollection } from './catalog';
import { bool, num, typeRank } from './bson-values';
import { compileProjection } from './projection';
import { runQuery } from './query-engine';
import { ServerError } from './server-error';
import type { CommandHandler, CommandRequest, ServerState } from './server-state';
import { BSON_OBJ_MAX_USER_SIZE } from './split-event';
import { Transactions } from './transactions';
import type { TxnInfo } from './storage';
import { applyOperators, applyReplacement, isReplacement, upsertDocument, type UpdateOutcome } from './update-operators';

/**
 * `insert`, `update`, `delete` and `findAndModify`, with the server's reply shapes (`n`,
 * `nModified`, `upserted`, per-statement `writeErrors`, ordered batches stopping at the first
 * error) and size rules: a document above 16 MiB is refused on insert with 2 BadValue "object to
 * insert too large" and on update with 17419 "Resulting document after update is larger than
 * 16777216" (MongoDB 7.0's codes; 8.0 answers 10334 BSONObjectTooLarge for the update).
 */
interface WriteError {
  index: number;
  code: number;
  errmsg: string;
}

function collectionName(req: CommandRequest): string {
  const name = req.body[req.name];
  if (typeof name !== 'string' || name.length === 0) throw new ServerError(73, `Invalid namespace specified '${req.db}.${String(name)}'`);
  return name;
}

/** The session fields events carry when the write is part of a multi-document transaction. */
export function txnOf(body: Document): TxnInfo | undefined {
  const key = Transactions.key(body);
  if (key === undefined) return undefined;
  return { key, lsid: body['lsid'] as Document, txnNumber: body['txnNumber'] as Long };
}

function writeErrorOf(index: number, e: unknown): WriteError {
  if (e instanceof ServerError) return { index, code: e.code, errmsg: e.message };
  throw e;
}

function checkId(doc: Document): void {
  const id = doc['_id'];
  if (Array.isArray(id)) throw new ServerError(2, "can't use an array for _id");
  if (typeRank(id) === 12) throw new ServerError(2, "can't use a regex for _id");
}

function withId(doc: Document): Document {
  if (doc['_id'] !== undefined) {
    if (Object.keys(doc)[0] === '_id') return doc;
    const { _id, ...rest } = doc;
    return { _id, ...rest };
  }
  return { _id: new ObjectId(), ...doc };
}

const insert: CommandHandler = (state, req) => {
  const coll = collectionName(req);
  const docs = req.body['documents'];
  if (!Array.isArray(docs)) throw new ServerError(14, "BSON field 'insert.documents' is missing but a required field");
  const ordered = req.body['ordered'] === undefined || bool(req.body['ordered']);
  const txn = txnOf(req.body);
  const errors: WriteError[] = [];
  let n = 0;
  let c: StoredCollection | undefined;
  for (let i = 0; i < docs.length; i++) {
    try {
      const size = calculateObjectSize(docs[i] as Document);
      if (size > BSON_OBJ_MAX_USER_SIZE) throw new ServerError(2, `object to insert too large. size in bytes: ${size}, max size: ${BSON_OBJ_MAX_USER_SIZE}`);
      const doc = withId(docs[i] as Document);
      checkId(doc);
      c ??= state.storage.ensure(req.db, coll);
      state.storage.insert(c, doc, txn);
      n++;
    } catch (e) {
      errors.push(writeErrorOf(i, e));
      if (ordered) break;
    }
  }
  return errors.length ? { n, writeErrors: errors, ok: 1 } : { n, ok: 1 };
};

function now(state: ServerState): () => { date: Date; timestamp: Timestamp } {
  return () => ({ date: new Date(), timestamp: state.clock.now() });
}

function checkResultSize(doc: Document): void {
  const size = calculateObjectSize(doc);
  if (size > BSON_OBJ_MAX_USER_SIZE) throw new ServerError(17419, `Resulting document after update is larger than ${BSON_OBJ_MAX_USER_SIZE}`);
}

/** Applies one update to one stored document; returns the outcome (already written when changed). */
function updateOne(state: ServerState, c: StoredCollection, before: Document, u: Document, txn: TxnInfo | undefined): UpdateOutcome {
  const outcome = isReplacement(u) ? applyReplacement(before, u) : applyOperators(before, u, { inserting: false, now: now(state) });
  if (!outcome.changed) return outcome;
  checkResultSize(outcome.doc);
  if (isReplacement(u)) state.storage.replace(c, before, outcome.doc, txn);
  else state.storage.update(c, before, outcome.doc, outcome.description, txn);
  return outcome;
}

function upsertOne(state: ServerState, db: string, coll: string, q: Document, u: Document, txn: TxnInfo | undefined): Document {
  const doc = upsertDocument(q, u, { now: now(state) });
  checkId(doc);
  checkResultSize(doc);
  const c = state.storage.ensure(db, coll);
  state.storage.insert(c, doc, txn);
  return doc;
}

const update: CommandHandler = (state, req) => {
  const coll = collectionName(req);
  const updates = req.body['updates'];
  if (!Array.isArray(updates)) throw new ServerError(14, "BSON field 'update.updates' is missing but a required field");
  const ordered = req.body['ordered'] === undefined || bool(req.body['ordered']);
  const txn = txnOf(req.body);
  const errors: WriteError[] = [];
  const upserted: Document[] = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < updates.length; i++) {
    const spec = updates[i] as Document;
    try {
      const q = (spec['q'] ?? {}) as Document;
      const u = spec['u'];
      if (Array.isArray(u)) throw new ServerError(2, 'pipeline-style updates are not supported by the stand-in');
      if (u === null || typeof u !== 'object') throw new ServerError(14, "BSON field 'update.updates.u' is the wrong type");
      const multi = bool(spec['multi']);
      if (multi && isReplacement(u as Document)) throw new ServerError(9, 'multi update is not supported for replacement-style update');
      if (spec['arrayFilters'] !== undefined) throw new ServerError(2, 'arrayFilters are not supported by the stand-in');
      const c = state.storage.collection(req.db, coll);
      const matches = runQuery(c, { filter: q, limit: multi ? 0 : 1 });
      if (matches.length === 0) {
        if (bool(spec['upsert'])) {
          const doc = upsertOne(state, req.db, coll, q, u as Document, txn);
          upserted.push({ index: new Int32(i), _id: doc['_id'] });
          n++;
        }
        continue;
      }
      for (const before of matches) {
        n++;
        if (updateOne(state, c!, before, u as Document, txn).changed) nModified++;
      }
    } catch (e) {
      errors.push(writeErrorOf(i, e));
      if (ordered) break;
    }
  }
  const reply: Document = { n, nModified };
  if (upserted.length) reply['upserted'] = upserted;
  if (errors.length) reply['writeErrors'] = errors;
  reply['ok'] = 1;
  return reply;
};

const del: CommandHandler = (state, req) => {
  const coll = collectionName(req);
  const deletes = req.body['deletes'];
  if (!Array.isArray(deletes)) throw new ServerError(14, "BSON field 'delete.deletes' is missing but a required field");
  const ordered = req.body['ordered'] === undefined || bool(req.body['ordered']);
  const txn = txnOf(req.body);
  const errors: WriteError[] = [];
  let n = 0;
  for (let i = 0; i < deletes.length; i++) {
    const spec = deletes[i] as Document;
    try {
      const limit = num(spec['limit']) ?? 0;
      if (limit !== 0 && limit !== 1) throw new ServerError(9, `The limit field in delete objects must be 0 or 1. Got ${limit}`);
      const c = state.storage.collection(req.db, coll);
      for (const doc of runQuery(c, { filter: (spec['q'] ?? {}) as Document, limit })) {
        state.storage.delete(c!, doc, txn);
        n++;
      }
    } catch (e) {
      errors.push(writeErrorOf(i, e));
      if (ordered) break;
    }
  }
  return errors.length ? { n, writeErrors: errors, ok: 1 } : { n, ok: 1 };
};

const findAndModify: CommandHandler = (state, req) => {
  const coll = collectionName(req);
  const b = req.body;
  const q = (b['query'] ?? {}) as Document;
  const remove = bool(b['remove']);
  const u = b['update'] as Document | undefined;
  if (remove && u !== undefined) throw new ServerError(9, 'Cannot specify both an update and remove=true');
  if (!remove && u === undefined) throw new ServerError(9, 'Either an update or remove=true must be specified');
  if (Array.isArray(u)) throw new ServerError(2, 'pipeline-style updates are not supported by the stand-in');
  const returnNew = bool(b['new']);
  const project = compileProjection(b['fields'] as Document | undefined);
  const out = (d: Document | null) => (d && project ? project(d) : d);
  const txn = txnOf(b);
  const c = state.storage.collection(req.db, coll);
  const [before] = runQuery(c, { filter: q, sort: b['sort'] as Document | undefined, limit: 1 });
  if (remove) {
    if (!before) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    state.storage.delete(c!, before, txn);
    return { lastErrorObject: { n: 1 }, value: out(before), ok: 1 };
  }
  if (!before) {
    if (!bool(b['upsert'])) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const doc = upsertOne(state, req.db, coll, q, u!, txn);
    return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc['_id'] }, value: returnNew ? out(doc) : null, ok: 1 };
  }
  const outcome = updateOne(state, c!, before, u!, txn);
  return { lastErrorObject: { n: 1, updatedExisting: true }, value: out(returnNew ? outcome.doc : before), ok: 1 };
};

export const WRITE_COMMANDS: Record<string, CommandHandler> = {
  insert,
  update,
  delete: del,
  findAndModify,
  findandmodify: findAndModify,
};
