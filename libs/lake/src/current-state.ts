import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
// Types only: DuckDB is a native module and a devDependency, loaded when currentStateFromLake runs
// (see loadDuckDb), so nothing that imports @runnel/lake loads it or needs it installed.
import type { DuckDBConnection } from '@duckdb/node-api';
import { EJSON } from 'bson';
import type { Collection, Document } from 'mongodb';
import { type Compression, type ObjectFormat, parseExtension } from './formats/object-format';
import { canonicalEjson } from './lake-state';
import { parseObjectKey } from './object-key';

/**
 * One collection's documents: canonical EJSON of `_id` → canonical EJSON of the document (field
 * order and BSON types included: int32 1, int64 1 and double 1.0 are three different texts).
 */
export type DocumentsState = Map<string, string>;

/** Where the lake's objects are: a local directory of downloaded objects (searched recursively), or an S3 prefix. */
export type LakeSource = { dir: string } | { s3: S3Client; bucket: string; prefix?: string };

/** Whose state: one stream generation (seqs order only within it) and one collection, `db.coll`. */
export interface LakeScope {
  stream: string;
  generation: number;
  /** `database.collection` (split at the first dot: database names have none). */
  namespace: string;
}

export interface CurrentState {
  documents: DocumentsState;
  /** Objects of the stream generation read (every namespace: a dropDatabase lives in the database's partition). */
  objects: number;
  /** Document rows of the namespace (insert, replace, update, delete, snapshot) after its last drop, copies of a row included. */
  rows: number;
  /** Keys whose latest row is a delete (not in `documents`). */
  deleted: number;
}

/** A key whose latest row says what happened but not what the document holds. */
export interface UnknownKey {
  key: string;
  operation: string;
  seq: number;
}

/**
 * Thrown by currentStateFromLake when documents' latest rows carry no full document: an update
 * read without `fullDocument: updateLookup`, or whose lookup found the document gone (a later
 * delete then settles it, so only a missing delete leaves it unknown). The lake cannot say what
 * such a document holds; guessing the previous version would hide exactly the bug the check is for.
 */
export class UnknownStateError extends Error {
  constructor(
    readonly namespace: string,
    /** How many keys are affected. */
    readonly keys: number,
    /** The first 5. */
    readonly sample: UnknownKey[],
  ) {
    super(`${namespace}: ${keys} document(s) whose latest row in the lake has no full document (an update without updateLookup?), e.g. ${sample.map((u) => `${u.key} (${u.operation}, seq ${u.seq})`).join(', ')}`);
    this.name = 'UnknownStateError';
  }
}

/**
 * Thrown by currentStateFromLake when two rows of one key at the same seq disagree (operation or
 * document). A seq is one event, so copies of it (a replayed object, the same batch stored in two
 * formats) must be identical; two versions mean the lake holds two different events under one seq,
 * which verifyLake reports as duplicates, and neither can be chosen.
 */
export class ConflictingRowsError extends Error {
  constructor(
    readonly namespace: string,
    readonly key: string,
    readonly seq: number,
  ) {
    super(`${namespace}: the lake holds different rows for ${key} at seq ${seq}`);
    this.name = 'ConflictingRowsError';
  }
}

/** Thrown by currentStateFromLake for document rows whose document_key has no `_id`. */
export class UnplaceableRowsError extends Error {
  constructor(
    readonly namespace: string,
    readonly rows: number,
  ) {
    super(`${namespace}: ${rows} document row(s) without document_key._id`);
    this.name = 'UnplaceableRowsError';
  }
}

/**
 * Thrown by currentStateFromLake when another collection was renamed onto the namespace: its
 * documents came from the source's rows, which a one-namespace state does not follow (lakeState does).
 */
export class RenamedIntoError extends Error {
  constructor(
    readonly namespace: string,
    readonly from: string,
    readonly seq: number,
  ) {
    super(`${namespace}: ${from} was renamed onto it at seq ${seq}; its documents come from ${from}'s rows (use lakeState)`);
    this.name = 'RenamedIntoError';
  }
}

const DOCUMENT_OPERATIONS = ['insert', 'replace', 'update', 'delete', 'snapshot'];
/** The envelope columns the state needs, in the order every scan selects them. */
const COLUMNS = ['operation', 'database', 'collection', 'document_key', 'full_document', 'to_namespace', 'stream', 'generation', 'seq'] as const;
// The lake keeps events of any size whole (OVERSIZE_EVENTS=split reassembles >16 MB events), and
// DuckDB's defaults stop at 16 MB per JSON object and 2 MB per CSV line.
const MAX_ROW_BYTES = 512 * 1024 * 1024;
const DOWNLOAD_PARALLELISM = 8;

/**
 * `@duckdb/node-api`, required at run time through createRequire, on purpose: esbuild bundles the
 * target of a literal import()/require, and tools/dev/run-ts.mjs (which keeps only `dependencies`
 * external) then failed on DuckDB's native `.node` binding for every tool importing @runnel/lake.
 * A CommonJS require (not import()) also resolves through NODE_PATH, as run-ts's bundles need.
 */
function loadDuckDb(): typeof import('@duckdb/node-api') {
  return createRequire(__filename)('@duckdb/node-api') as typeof import('@duckdb/node-api');
}

const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** One file list of one extension as an SQL table of COLUMNS (seq and generation BIGINT, the rest VARCHAR). */
function scan(files: string[], kind: { format: ObjectFormat; compression: Compression }): string {
  const list = `[${files.map(sql).join(', ')}]`;
  const compression = kind.compression === 'none' ? 'uncompressed' : kind.compression === 'gzip' ? 'gzip' : 'zstd';
  if (kind.format === 'parquet') return `SELECT ${COLUMNS.join(', ')} FROM read_parquet(${list})`;
  if (kind.format === 'jsonl') {
    const types = COLUMNS.map((c) => `${c}: '${c === 'seq' || c === 'generation' ? 'BIGINT' : 'VARCHAR'}'`).join(', ');
    return `SELECT ${COLUMNS.join(', ')} FROM read_json(${list}, format='newline_delimited', compression='${compression}', columns={${types}}, maximum_object_size=${MAX_ROW_BYTES})`;
  }
  // CSV as written by encodeCsv: nulls are empty unquoted fields, '' is `""` (allow_quoted_nulls=false
  // keeps them apart); all_varchar so no sniffer guesses a type for an EJSON column.
  const select = COLUMNS.map((c) => (c === 'seq' || c === 'generation' ? `CAST(${c} AS BIGINT) AS ${c}` : c)).join(', ');
  return `SELECT ${select} FROM read_csv(${list}, header=true, quote='"', escape='"', allow_quoted_nulls=false, all_varchar=true, compression='${compression}', max_line_size=${MAX_ROW_BYTES}, buffer_size=${2 * MAX_ROW_BYTES})`;
}

/** Files under a directory, recursively, whose names are objects of the scope's stream generation. */
function objectFiles(dir: string, scope: LakeScope): { path: string; extension: string }[] {
  const found: { path: string; extension: string }[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const parsed = parseObjectKey(entry.name);
    if (!parsed || parsed.stream !== scope.stream || parsed.generation !== scope.generation || !parseExtension(parsed.extension)) continue;
    found.push({ path: join(entry.parentPath, entry.name), extension: parsed.extension });
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * One stream generation's objects under an S3 prefix, downloaded as they are into `dir` (flat, every
 * namespace), returning how many. currentStateFromLake does this itself for an S3 source (DuckDB here
 * has no httpfs, and none may be downloaded); for the state of several collections download once and
 * pass `{ dir }`.
 */
export async function downloadLakeObjects(s3: S3Client, bucket: string, prefix: string, scope: Pick<LakeScope, 'stream' | 'generation'>, dir: string): Promise<number> {
  const keys: { key: string; extension: string }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }));
    for (const item of page.Contents ?? []) {
      const parsed = item.Key === undefined ? undefined : parseObjectKey(item.Key);
      if (item.Key !== undefined && parsed && parsed.stream === scope.stream && parsed.generation === scope.generation && parseExtension(parsed.extension)) keys.push({ key: item.Key, extension: parsed.extension });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[i].key }));
      const body = Buffer.from((await res.Body?.transformToByteArray()) ?? []);
      // Flat names keep any key (escaped characters, deep prefixes) a plain file; the name still
      // parses as an object of the stream generation, which is how objectFiles picks it up.
      const file = keys[i].key.slice(keys[i].key.lastIndexOf('/') + 1);
      writeFileSync(join(dir, `${String(i).padStart(8, '0')}+${file}`), body);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DOWNLOAD_PARALLELISM, keys.length) }, worker));
  return keys.length;
}

/**
 * The current state of one collection computed from the lake by DuckDB, the way the issue 10 proof
 * states it: every object of one stream generation (any format and compression, several at once),
 * the namespace's document rows after its last drop (drop, rename away, dropDatabase), per
 * `document_key._id` the row with the highest seq (seq decides, never object or row order; copies of
 * a seq count once), keys whose latest row is a delete removed. A snapshot, insert, replace or update
 * row with a full_document gives the document; the documents come back as canonical EJSON, comparable
 * with `collectionState` of the server's collection.
 *
 * Keys are compared as canonical EJSON, type included: `_id` int32 1 and int64 1 are two keys,
 * although MongoDB's `_id` index holds them equal. That is exact, not lax: `_id` is immutable (an
 * update may not alter it, type included) and every event of a document carries the `_id` as stored
 * (find() too), so an `_id` changing type is a delete followed by an insert — two keys, the old
 * one's latest row a delete. Two live keys
 * that MongoDB holds equal can only come from a broken lake, and then show as `extra` in diffStates.
 *
 * Throws UnknownStateError (latest rows without a document), ConflictingRowsError (two versions of
 * one seq), UnplaceableRowsError (a document row without `_id`), RenamedIntoError (a collection
 * renamed onto the namespace).
 */
export async function currentStateFromLake(source: LakeSource, scope: LakeScope): Promise<CurrentState> {
  const dot = scope.namespace.indexOf('.');
  if (dot <= 0 || dot === scope.namespace.length - 1) throw new TypeError(`namespace must be "database.collection", got ${JSON.stringify(scope.namespace)}`);
  if (!Number.isSafeInteger(scope.generation)) throw new TypeError(`generation must be an integer, got ${scope.generation}`);
  const [database, collection] = [scope.namespace.slice(0, dot), scope.namespace.slice(dot + 1)];

  let downloaded: string | undefined;
  try {
    let dir: string;
    if ('dir' in source) dir = source.dir;
    else {
      dir = downloaded = mkdtempSync(join(tmpdir(), 'runnel-current-state-'));
      await downloadLakeObjects(source.s3, source.bucket, source.prefix ?? '', scope, dir);
    }
    const files = objectFiles(dir, scope);
    const empty: CurrentState = { documents: new Map(), objects: 0, rows: 0, deleted: 0 };
    if (files.length === 0) return empty;

    const { DuckDBInstance } = loadDuckDb();
    // Only the built-in extensions (json, parquet): nothing may be downloaded.
    const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', threads: '2' });
    const db = await instance.connect();
    try {
      const byExtension = new Map<string, string[]>();
      for (const f of files) {
        const paths = byExtension.get(f.extension);
        if (paths) paths.push(f.path);
        else byExtension.set(f.extension, [f.path]);
      }
      // objectFiles kept only extensions parseExtension knows.
      const union = [...byExtension].map(([extension, paths]) => scan(paths, parseExtension(extension) ?? { format: 'jsonl', compression: 'none' })).join(' UNION ALL ');
      // The rows that can matter, read once: the stream generation's (the names said so; the columns
      // are checked too) of this collection, its database's dropDatabase, and renames onto it.
      await db.run(
        `CREATE TEMP TABLE mine AS SELECT * FROM (${union}) WHERE stream = ${sql(scope.stream)} AND generation = ${scope.generation} ` +
          `AND ((database = ${sql(database)} AND (collection = ${sql(collection)} OR collection IS NULL)) OR (operation = 'rename' AND to_namespace = ${sql(scope.namespace)}))`,
      );
      const here = `database = ${sql(database)} AND collection = ${sql(collection)}`;
      const [{ barrier }] = await rows(db, `SELECT coalesce(max(seq), 0)::VARCHAR AS barrier FROM mine WHERE database = ${sql(database)} AND ((collection = ${sql(collection)} AND operation IN ('drop', 'rename')) OR (collection IS NULL AND operation = 'dropDatabase'))`);

      const renamedInto = await rows(db, `SELECT database || '.' || collection AS source, seq::VARCHAR AS seq FROM mine WHERE operation = 'rename' AND to_namespace = ${sql(scope.namespace)} AND seq > ${barrier} ORDER BY seq DESC LIMIT 1`);
      if (renamedInto.length) throw new RenamedIntoError(scope.namespace, String(renamedInto[0].source), Number(renamedInto[0].seq));

      await db.run(
        `CREATE TEMP TABLE docs AS SELECT json_extract(document_key, '$._id')::VARCHAR AS id, seq, operation, full_document FROM mine ` +
          `WHERE ${here} AND operation IN (${DOCUMENT_OPERATIONS.map(sql).join(', ')}) AND seq > ${barrier}`,
      );
      const [{ total, unplaceable }] = await rows(db, `SELECT count(*)::VARCHAR AS total, count(*) FILTER (WHERE id IS NULL)::VARCHAR AS unplaceable FROM docs`);
      if (Number(unplaceable) > 0) throw new UnplaceableRowsError(scope.namespace, Number(unplaceable));
      // Per key the rows at its highest seq, copies of one row once: more than one left is a conflict.
      const latest = await rows(
        db,
        `SELECT DISTINCT d.id, d.seq::VARCHAR AS seq, d.operation, d.full_document FROM docs d ` +
          `JOIN (SELECT id, max(seq) AS seq FROM docs GROUP BY id) top ON d.id = top.id AND d.seq = top.seq`,
      );
      return settle(scope.namespace, latest as unknown as LatestRow[], files.length, Number(total));
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  } finally {
    if (downloaded) rmSync(downloaded, { recursive: true, force: true });
  }
}

interface LatestRow {
  id: string;
  seq: string;
  operation: string;
  full_document: string | null;
}

/** The latest rows to documents: keys re-spelled canonically in JS (one spelling per BSON value, as collectionState spells them). */
function settle(namespace: string, latest: LatestRow[], objects: number, total: number): CurrentState {
  const best = new Map<string, { seq: number; operation: string; full: string | null }>();
  for (const r of latest) {
    const key = canonicalEjson(EJSON.parse(r.id, { relaxed: false }));
    const seq = Number(r.seq);
    const full = r.full_document === null ? null : canonicalEjson(EJSON.parse(r.full_document, { relaxed: false }));
    const seen = best.get(key);
    if (seen && seen.seq === seq && (seen.operation !== r.operation || seen.full !== full)) throw new ConflictingRowsError(namespace, key, seq);
    if (!seen || seq > seen.seq) best.set(key, { seq, operation: r.operation, full });
  }
  const documents: DocumentsState = new Map();
  const unknown: UnknownKey[] = [];
  let deleted = 0;
  for (const [key, r] of best) {
    if (r.operation === 'delete') deleted++;
    else if (r.full === null) unknown.push({ key, operation: r.operation, seq: r.seq });
    else documents.set(key, r.full);
  }
  if (unknown.length) throw new UnknownStateError(namespace, unknown.length, unknown.sort((a, b) => a.seq - b.seq).slice(0, 5));
  return { documents, objects, rows: total, deleted };
}

async function rows(db: DuckDBConnection, query: string): Promise<Record<string, string | null>[]> {
  return (await db.runAndReadAll(query)).getRowObjectsJson() as Record<string, string | null>[];
}

/**
 * A collection on the server, shaped like currentStateFromLake's documents: every document of
 * `find()` as canonical EJSON keyed by canonical EJSON of its `_id`, BSON types exactly as stored
 * (no promotion of int32/int64/double, binData kept Binary, regexes kept BSONRegExp with their flags).
 */
export async function collectionState(collection: Collection<Document>): Promise<DocumentsState> {
  const documents: DocumentsState = new Map();
  for await (const d of collection.find({}, { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true })) documents.set(canonicalEjson(d._id), canonicalEjson(d));
  return documents;
}

export interface StateDiff {
  equal: boolean;
  /** Keys on the server the lake's state lacks. */
  missing: string[];
  /** Keys in the lake's state the server lacks. */
  extra: string[];
  /** Keys in both whose documents differ. */
  different: { key: string; lake: string; server: string }[];
  /** For a failing test: counts, then the first 5 of each kind (documents around their first difference). */
  summary: string;
}

const SHOWN = 5;
const clip = (s: string, from: number) => `${from > 40 ? '…' : ''}${s.slice(Math.max(0, from - 40), from + 80)}${from + 80 < s.length ? '…' : ''}`;

/** The lake's state against the server's, key by key and document by document as canonical text. */
export function diffStates(lake: DocumentsState, server: DocumentsState): StateDiff {
  const missing = [...server.keys()].filter((k) => !lake.has(k));
  const extra = [...lake.keys()].filter((k) => !server.has(k));
  const different: StateDiff['different'] = [];
  for (const [key, doc] of server) {
    const mine = lake.get(key);
    if (mine !== undefined && mine !== doc) different.push({ key, lake: mine, server: doc });
  }
  const equal = missing.length === 0 && extra.length === 0 && different.length === 0;
  const lines = [
    equal
      ? `lake and server agree on ${server.size} document(s)`
      : `lake (${lake.size} documents) ≠ server (${server.size}): ${missing.length} missing from the lake, ${extra.length} extra in the lake, ${different.length} different`,
  ];
  const more = (n: number) => (n > SHOWN ? ` (and ${n - SHOWN} more)` : '');
  if (missing.length) lines.push(`missing: ${missing.slice(0, SHOWN).join(', ')}${more(missing.length)}`);
  if (extra.length) lines.push(`extra: ${extra.slice(0, SHOWN).join(', ')}${more(extra.length)}`);
  for (const d of different.slice(0, SHOWN)) {
    let at = 0;
    while (at < d.server.length && d.server[at] === d.lake[at]) at++;
    lines.push(`different ${d.key} from character ${at}: lake ${clip(d.lake, at)} / server ${clip(d.server, at)}`);
  }
  if (different.length > SHOWN) lines.push(`(and ${different.length - SHOWN} more different)`);
  return { equal, missing, extra, different, summary: lines.join('\n') };
}
