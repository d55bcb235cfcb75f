import { type Document, Int32, Long } from 'bson';
import { runAggregate } from './aggregation';
import { bool, num, valueKey } from './bson-values';
import { ChangeStreamCursor, type StreamScope } from './change-stream';
import { type DocSource, QueryCursor } from './cursors';
import { getPath } from './document-paths';
import { compileProjection } from './projection';
import { planQuery, runQuery } from './query-engine';
import { cursorReply } from './raw-bson';
import { ServerError } from './server-error';
import { type CommandHandler, type CommandRequest, RawReply, type ServerState } from './server-state';

/**
 * Reads: `find`, `aggregate` (a `$changeStream` first opens a change stream cursor; any other
 * pipeline runs once into a query cursor), `getMore` (a change stream's waits up to its maxTimeMS
 * for new entries and wakes on a write), `killCursors`, `count`, `distinct`.
 */
const DEFAULT_BATCH = 101;

function cursorId(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (v instanceof Long) return v.toBigInt();
  return BigInt(Math.trunc(num(v) ?? 0));
}

/** A query cursor's first batch; the cursor is kept only if more remains. */
export function openQueryCursor(state: ServerState, ns: string, docs: Document[] | DocSource, batchSize: number | undefined, single = false): RawReply {
  const c = new QueryCursor(state.cursors.newId(), ns, docs);
  const { docs: batch, exhausted } = c.take(batchSize ?? DEFAULT_BATCH);
  const open = !exhausted && !single;
  if (open) state.cursors.add(c);
  return new RawReply((top) => cursorReply('firstBatch', batch, { id: Long.fromBigInt(open ? c.id : 0n), ns }, top));
}

const find: CommandHandler = (state, req) => {
  const b = req.body;
  const coll = b['find'];
  if (typeof coll !== 'string') throw new ServerError(73, 'Invalid collection name');
  const limit = num(b['limit']);
  const single = bool(b['singleBatch']) || (limit !== undefined && limit < 0);
  const source = planQuery(state.storage.collection(req.db, coll), {
    filter: b['filter'] as Document | undefined,
    sort: b['sort'] as Document | undefined,
    skip: num(b['skip']),
    limit: limit === undefined ? undefined : Math.abs(limit),
    hint: b['hint'],
    min: b['min'] as Document | undefined,
    max: b['max'] as Document | undefined,
    project: compileProjection(b['projection'] as Document | undefined),
  });
  const batchSize = num(b['batchSize']);
  return openQueryCursor(state, `${req.db}.${coll}`, source, batchSize === 0 ? 0 : batchSize, single);
};

function streamScope(req: CommandRequest, spec: Document): StreamScope {
  const target = req.body['aggregate'];
  if (bool(spec['allChangesForCluster'])) {
    if (req.db !== 'admin' || typeof target === 'string') throw new ServerError(73, '$changeStream may only be run on admin when allChangesForCluster is true');
    return { type: 'cluster' };
  }
  if (req.db === 'admin' || req.db === 'config' || req.db === 'local') {
    throw new ServerError(73, `$changeStream may not be opened on the internal ${req.db} database`);
  }
  if (typeof target === 'string') {
    if (target.startsWith('system.')) throw new ServerError(73, `$changeStream may not be opened on the internal ${req.db}.${target} collection`);
    return { type: 'collection', db: req.db, coll: target };
  }
  return { type: 'database', db: req.db };
}

function openChangeStream(state: ServerState, req: CommandRequest, pipeline: Document[]): RawReply {
  const spec = (pipeline[0]['$changeStream'] ?? {}) as Document;
  const scope = streamScope(req, spec);
  for (const s of pipeline.slice(1)) if (s['$changeStream']) throw new ServerError(40602, '$changeStream is only valid as the first stage in a pipeline');
  // A stream with no start point starts after a fresh cluster time (the reply's operationTime), so
  // a later resume with startAtOperationTime from it never replays a write from before it opened.
  const startsNow = spec['resumeAfter'] === undefined && spec['startAfter'] === undefined && spec['startAtOperationTime'] === undefined;
  const now = startsNow ? state.clock.next() : state.clock.now();
  const c = new ChangeStreamCursor(state.cursors.newId(), scope, spec, pipeline.slice(1), { oplog: state.oplog, catalog: state.catalog, instance: state.instance }, now);
  const batchSize = num((req.body['cursor'] as Document | undefined)?.['batchSize']) ?? DEFAULT_BATCH;
  let batch;
  try {
    batch = c.collect(batchSize, () => state.clock.now());
  } catch (e) {
    if (e instanceof ServerError && e.code === 10334) throw new ServerError(e.code, `PlanExecutor error during aggregation :: caused by :: ${e.message}`);
    throw e;
  }
  if (!batch.closed) state.cursors.add(c);
  return new RawReply((top) => cursorReply('firstBatch', batch.docs, { postBatchResumeToken: batch.pbrt, id: Long.fromBigInt(batch.closed ? 0n : c.id), ns: c.ns }, top));
}

const aggregate: CommandHandler = (state, req) => {
  const pipeline = req.body['pipeline'];
  if (!Array.isArray(pipeline)) throw new ServerError(14, "'pipeline' option must be specified as an array");
  if (req.body['cursor'] === undefined && !bool(req.body['explain'])) throw new ServerError(9, "The 'cursor' option is required, except for aggregate with the explain argument");
  if (pipeline[0]?.['$changeStream'] !== undefined) return openChangeStream(state, req, pipeline as Document[]);
  const target = req.body['aggregate'];
  if (typeof target !== 'string') throw new ServerError(2, 'collection-less aggregates (other than $changeStream) are not supported by the stand-in');
  const docs = runAggregate(state.storage.collection(req.db, target), pipeline as Document[], { ns: `${req.db}.${target}`, host: state.address });
  return openQueryCursor(state, `${req.db}.${target}`, docs, num((req.body['cursor'] as Document)['batchSize']));
};

const getMore: CommandHandler = async (state, req) => {
  const id = cursorId(req.body['getMore']);
  const c = state.cursors.get(id);
  if (!c) throw new ServerError(43, `cursor id ${id} not found`);
  const coll = req.body['collection'];
  if (typeof coll !== 'string' || `${req.db}.${coll}` !== c.ns) {
    throw new ServerError(13, `Requested getMore on namespace '${req.db}.${String(coll)}', but cursor belongs to a different namespace ${c.ns}`, [], 'Unauthorized');
  }
  const batchSize = num(req.body['batchSize']);
  if (c.kind === 'query') {
    const { docs, exhausted } = c.take(batchSize && batchSize > 0 ? batchSize : Number.POSITIVE_INFINITY);
    if (exhausted) state.cursors.remove(id);
    return new RawReply((top) => cursorReply('nextBatch', docs, { id: Long.fromBigInt(exhausted ? 0n : id), ns: c.ns }, top));
  }
  const limit = batchSize && batchSize > 0 ? batchSize : Number.POSITIVE_INFINITY;
  const until = Date.now() + (num(req.body['maxTimeMS']) ?? 1000);
  const collect = () => {
    try {
      return c.collect(limit, () => state.clock.now());
    } catch (e) {
      state.cursors.remove(id);
      if (e instanceof ServerError && e.code === 10334) throw new ServerError(e.code, `Executor error during getMore :: caused by :: ${e.message}`);
      throw e;
    }
  };
  let batch = collect();
  // awaitData: an empty batch waits for the next write, up to maxTimeMS.
  while (batch.docs.count === 0 && !batch.closed && Date.now() < until && !state.stopping) {
    await state.oplog.waitForAppend(until - Date.now());
    if (c.killed) throw new ServerError(237, `operation was interrupted because cursor id ${id} was killed`);
    batch = collect();
  }
  if (batch.closed) state.cursors.remove(id);
  return new RawReply((top) => cursorReply('nextBatch', batch.docs, { postBatchResumeToken: batch.pbrt, id: Long.fromBigInt(batch.closed ? 0n : id), ns: c.ns }, top));
};

const killCursors: CommandHandler = (state, req) => {
  const ids = ((req.body['cursors'] ?? []) as unknown[]).map(cursorId);
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const id of ids) (state.cursors.remove(id) ? killed : notFound).push(Long.fromBigInt(id));
  state.oplog.wake();
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

const count: CommandHandler = (state, req) => {
  const coll = req.body['count'];
  if (typeof coll !== 'string') throw new ServerError(73, 'Invalid collection name');
  const c = state.storage.collection(req.db, coll);
  const query = req.body['query'] as Document | undefined;
  // estimatedDocumentCount: no query, no skip or limit — the collection's size, O(1) as on a server (its metadata count).
  if ((!query || Object.keys(query).length === 0) && req.body['skip'] === undefined && req.body['limit'] === undefined) return { n: new Int32(c?.docs.size ?? 0), ok: 1 };
  const docs = runQuery(c, {
    filter: query,
    hint: req.body['hint'],
    skip: num(req.body['skip']),
    limit: num(req.body['limit']) === undefined ? undefined : Math.abs(num(req.body['limit'])!),
  });
  return { n: new Int32(docs.length), ok: 1 };
};

const distinct: CommandHandler = (state, req) => {
  const coll = req.body['distinct'];
  const key = req.body['key'];
  if (typeof coll !== 'string' || typeof key !== 'string') throw new ServerError(2, 'distinct needs a collection and a key');
  const seen = new Map<string, unknown>();
  const parts = key.split('.');
  for (const doc of runQuery(state.storage.collection(req.db, coll), { filter: req.body['query'] as Document | undefined })) {
    const v = getPath(doc, parts);
    for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && !seen.has(valueKey(x))) seen.set(valueKey(x), x);
  }
  return { values: [...seen.values()], ok: 1 };
};

export const READ_COMMANDS: Record<string, CommandHandler> = { find, aggregate, getMore, killCursors, count, distinct };
