import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Binary, BSONRegExp, Decimal128, type Document, Double, Int32, Long, MongoClient, ObjectId } from 'mongodb';
import { MongoStandIn, REPO_ROOT, S3Server } from '@runnel/testing';
import type { ChangeEnvelope } from './change-envelope';
import {
  collectionState,
  ConflictingRowsError,
  currentStateFromLake,
  type DocumentsState,
  diffStates,
  downloadLakeObjects,
  RenamedIntoError,
  UnknownStateError,
  UnplaceableRowsError,
} from './current-state';
import { encodeObject } from './formats/object-codec';
import { type Compression, COMPRESSIONS, FORMATS, type ObjectFormat } from './formats/object-format';
import { canonicalEjson } from './lake-state';
import { objectKey } from './object-key';

const ej = canonicalEjson;
const GENERATION = 1_764_590_000;
const HOUR_22 = Date.UTC(2026, 11, 1, 22, 0, 0) / 1000;
const HOUR_23 = HOUR_22 + 3600;
const SCOPE = { stream: 'shop', generation: GENERATION, namespace: 'shop.orders' };

/** One lake row; `seconds` is its cluster time (seq, not cluster time, orders rows). */
function row(seq: number, operation: string, id: unknown, doc: Record<string, unknown> | null, over: Partial<ChangeEnvelope> & { seconds?: number } = {}): ChangeEnvelope {
  const { seconds = HOUR_22 + seq, ...rest } = over;
  return {
    operation, database: 'shop', collection: 'orders',
    document_key: id === undefined ? null : ej({ _id: id }),
    full_document: doc === null ? null : ej(doc),
    full_document_before_change: null, update_description: operation === 'update' ? '{"updatedFields":{}}' : null, operation_description: null, to_namespace: null,
    cluster_time: `${seconds}.${seq}`, event_time: new Date(seconds * 1000).toISOString(), cluster_time_increment: seq,
    wall_time: null, txn_number: null, lsid: null, stream: 'shop', generation: GENERATION, seq, ...rest,
  };
}

/** Each batch to one object with the lake's own encoder and key, as batch-writer and s3-uploader store it. */
function objects(batches: ChangeEnvelope[][], format: ObjectFormat, compression: Compression, prefix = ''): { key: string; body: Buffer }[] {
  return batches.map((batch) => {
    const encoded = encodeObject(batch, format, compression);
    const key = objectKey({
      strategy: 'hive', prefix, stream: batch[0].stream, generation: batch[0].generation, collection: batch[0].collection,
      clusterSeconds: Number(batch[0].cluster_time.split('.')[0]), seqStart: batch[0].seq, seqEnd: batch.at(-1)!.seq, extension: encoded.extension,
    });
    return { key, body: encoded.body };
  });
}

function writeDir(dir: string, batches: ChangeEnvelope[][], format: ObjectFormat = 'jsonl', compression: Compression = 'none'): string {
  for (const o of objects(batches, format, compression)) {
    mkdirSync(dirname(join(dir, o.key)), { recursive: true });
    writeFileSync(join(dir, o.key), o.body);
  }
  return dir;
}

const oid = new ObjectId('6561a1b2c3d4e5f601234567');
const DOCS = {
  oid1: { _id: oid, v: new Int32(1), price: new Double(5) },
  oid2: { _id: oid, v: new Int32(2), price: new Double(5.5) },
  oid3: { _id: oid, v: new Int32(3), price: new Double(5), at: new Date('2026-12-01T22:00:00.123Z') },
  str1: { _id: 'k-str', v: 'first' },
  str3: { _id: 'k-str', v: 're-inserted after its delete' },
  int1: { _id: new Int32(1), v: 'int32 one' },
  long1: { _id: Long.fromNumber(1), v: 'int64 one, after int32 one was deleted' },
  long2a: { _id: Long.fromNumber(2), v: new Int32(1) },
  long2b: { _id: Long.fromNumber(2), v: Long.fromString('9007199254740993'), d: Decimal128.fromString('1.10'), bin: new Binary(Buffer.from([0, 1, 255]), 0x80), neg: new Double(-0) },
};

/**
 * The scenario every format runs. Snapshot rows (seq 1–4) are in the later hour's partition and the
 * change events (5–10) in the earlier one, so in path order (hour=22 before hour=23) the object with
 * the highest seqs is read first: a "last row read wins" state would give the snapshot versions back.
 */
const SNAPSHOT = [
  row(1, 'snapshot', oid, DOCS.oid1, { seconds: HOUR_23 }),
  row(2, 'snapshot', 'k-str', DOCS.str1, { seconds: HOUR_23 }),
  row(3, 'snapshot', new Int32(1), DOCS.int1, { seconds: HOUR_23 }),
  row(4, 'snapshot', Long.fromNumber(2), DOCS.long2a, { seconds: HOUR_23 }),
];
const CHANGES = [
  row(5, 'update', oid, DOCS.oid2),
  row(6, 'delete', 'k-str', null),
  row(7, 'insert', 'k-str', DOCS.str3),
  row(8, 'delete', new Int32(1), null),
  row(9, 'insert', Long.fromNumber(1), DOCS.long1),
  row(10, 'replace', Long.fromNumber(2), DOCS.long2b),
];
const LATER = [row(11, 'insert', 'gone', { _id: 'gone' }, { seconds: HOUR_23 + 11 }), row(12, 'delete', 'gone', null, { seconds: HOUR_23 + 12 }), row(13, 'update', oid, DOCS.oid3, { seconds: HOUR_23 + 13 })];
// Same _id in another collection of the stream: another namespace, not this state.
const USERS = [row(14, 'insert', oid, { _id: oid, user: true }, { collection: 'users', seconds: HOUR_23 + 14 })];
const BATCHES = [SNAPSHOT, CHANGES, LATER, USERS];
const EXPECTED: DocumentsState = new Map([
  [ej(oid), ej(DOCS.oid3)],
  [ej('k-str'), ej(DOCS.str3)],
  [ej(Long.fromNumber(1)), ej(DOCS.long1)],
  [ej(Long.fromNumber(2)), ej(DOCS.long2b)],
]);

let root: string;
let n = 0;
const fresh = () => join(root, `lake-${++n}`);
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'runnel-current-state-spec-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(FORMATS.flatMap((f) => COMPRESSIONS.map((c) => [f, c] as const)))('currentStateFromLake over %s + %s', (format, compression) => {
  let dir: string;
  beforeAll(() => {
    dir = writeDir(fresh(), BATCHES, format, compression);
  });

  it('per _id the row with the highest seq, deletes removed, snapshot rows as documents, BSON types exact', async () => {
    const state = await currentStateFromLake({ dir }, SCOPE);
    expect(state.documents).toEqual(EXPECTED);
    expect(state).toMatchObject({ objects: 4, rows: 13, deleted: 2 });
    // The types survive the format: int64, Decimal128 "1.10" (not 1.1), binData subtype 0x80, -0.0.
    expect(state.documents.get(ej(Long.fromNumber(2)))).toBe(
      '{"_id":{"$numberLong":"2"},"v":{"$numberLong":"9007199254740993"},"d":{"$numberDecimal":"1.10"},"bin":{"$binary":{"base64":"AAH/","subType":"80"}},"neg":{"$numberDouble":"-0.0"}}',
    );
  });

  it('a replayed object (the same object again under another folder) changes nothing', async () => {
    const copied = fresh();
    cpSync(dir, join(copied, 'first'), { recursive: true });
    cpSync(dir, join(copied, 'again'), { recursive: true });
    const state = await currentStateFromLake({ dir: copied }, SCOPE);
    expect(state.documents).toEqual(EXPECTED);
    expect(state).toMatchObject({ objects: 8, rows: 26, deleted: 2 });
  });
});

describe('currentStateFromLake', () => {
  it('reads every format in one directory, and a batch stored twice in two formats (FORMAT changed before a replay) counts once', async () => {
    const dir = fresh();
    writeDir(dir, [SNAPSHOT], 'parquet', 'zstd');
    writeDir(dir, [CHANGES], 'csv', 'gzip');
    writeDir(dir, [CHANGES, USERS], 'jsonl', 'zstd');
    writeDir(dir, [LATER], 'csv', 'none');
    const state = await currentStateFromLake({ dir }, SCOPE);
    expect(state.documents).toEqual(EXPECTED);
    expect(state).toMatchObject({ objects: 5, rows: 19, deleted: 2 });
  });

  it('reads an S3 prefix (s3rver), and only that prefix', async () => {
    const s3 = await S3Server.start(['lake']);
    const client = new S3Client(s3.clientConfig);
    try {
      const put = (o: { key: string; body: Buffer }) => client.send(new PutObjectCommand({ Bucket: 'lake', Key: o.key, Body: o.body }));
      for (const o of objects(BATCHES, 'jsonl', 'zstd', 'mine')) await put(o);
      // Another deployment's lake beside it: the same stream and generation, other documents.
      for (const o of objects([[row(1, 'insert', 'elsewhere', { _id: 'elsewhere' })]], 'parquet', 'none', 'theirs')) await put(o);
      const state = await currentStateFromLake({ s3: client, bucket: 'lake', prefix: 'mine/' }, SCOPE);
      expect(state.documents).toEqual(EXPECTED);
      expect(state).toMatchObject({ objects: 4, rows: 13, deleted: 2 });
      // Downloaded once for several collections: the same states from the directory.
      const dir = fresh();
      mkdirSync(dir);
      expect(await downloadLakeObjects(client, 'lake', 'mine/', SCOPE, dir)).toBe(4);
      expect((await currentStateFromLake({ dir }, SCOPE)).documents).toEqual(EXPECTED);
      expect((await currentStateFromLake({ dir }, { ...SCOPE, namespace: 'shop.users' })).documents).toEqual(new Map([[ej(oid), ej({ _id: oid, user: true })]]));
    } finally {
      client.destroy();
      await s3.stop();
    }
  });

  it('only the scope: other stream generations and streams in the same place are not read; no objects is an empty state', async () => {
    const dir = writeDir(fresh(), BATCHES);
    // An older generation (seq restarts at 1) and another stream, both with the same _ids and seqs.
    writeDir(dir, [[row(20, 'insert', 'old-generation', { _id: 'old-generation' }, { generation: GENERATION - 100 })], [row(30, 'insert', oid, { _id: oid, stream: 'other' }, { stream: 'other' })]]);
    expect((await currentStateFromLake({ dir }, SCOPE)).documents).toEqual(EXPECTED);
    expect(await currentStateFromLake({ dir }, { ...SCOPE, generation: GENERATION + 1 })).toEqual({ documents: new Map(), objects: 0, rows: 0, deleted: 0 });
    expect((await currentStateFromLake({ dir }, { ...SCOPE, namespace: 'shop.users' })).documents).toEqual(new Map([[ej(oid), ej({ _id: oid, user: true })]]));
    expect(await currentStateFromLake({ dir }, { ...SCOPE, namespace: 'shop.none' })).toEqual({ documents: new Map(), objects: 4, rows: 0, deleted: 0 });
  });

  it('an update without a full document as the latest row: an error naming how many keys, never the previous version', async () => {
    const dir = writeDir(fresh(), [[
      row(1, 'insert', 'a', { _id: 'a', v: 1 }),
      row(2, 'update', 'a', null),
      row(3, 'update', 'b', null),
      // Settled later: a lookup that found the document gone, then its delete; a lookup-less update, then a full one.
      row(4, 'insert', 'c', { _id: 'c' }),
      row(5, 'update', 'c', null),
      row(6, 'delete', 'c', null),
      row(7, 'update', 'd', null),
      row(8, 'update', 'd', { _id: 'd', v: 2 }),
    ]]);
    const err = await currentStateFromLake({ dir }, SCOPE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownStateError);
    expect(err).toMatchObject({ namespace: 'shop.orders', keys: 2, sample: [{ key: ej('a'), operation: 'update', seq: 2 }, { key: ej('b'), operation: 'update', seq: 3 }] });
    expect((err as Error).message).toMatch(/^shop\.orders: 2 document\(s\) whose latest row in the lake has no full document/);
  });

  it('two different rows at the same seq (two events under one seq): ConflictingRowsError, neither is chosen', async () => {
    const dir = writeDir(fresh(), [[row(1, 'insert', 'a', { _id: 'a', v: 1 })]], 'jsonl', 'none');
    writeDir(join(dir, 'replay'), [[row(1, 'insert', 'a', { _id: 'a', v: 2 })]], 'parquet', 'none');
    await expect(currentStateFromLake({ dir }, SCOPE)).rejects.toThrow(ConflictingRowsError);
  });

  it('drop, a rename away and dropDatabase empty the collection; later rows start it again', async () => {
    const dropped = (event: ChangeEnvelope) =>
      currentStateFromLake({ dir: writeDir(fresh(), [[row(1, 'insert', 'a', { _id: 'a' }), row(2, 'insert', 'b', { _id: 'b' })], [event], [row(4, 'insert', 'c', { _id: 'c' })]]) }, SCOPE);
    const onlyC = new Map([[ej('c'), ej({ _id: 'c' })]]);
    expect((await dropped(row(3, 'drop', undefined, null))).documents).toEqual(onlyC);
    expect((await dropped(row(3, 'rename', undefined, null, { to_namespace: 'shop.archive' }))).documents).toEqual(onlyC);
    expect((await dropped(row(3, 'dropDatabase', undefined, null, { collection: null }))).documents).toEqual(onlyC);
    // Another database's dropDatabase is not this collection's.
    expect((await dropped(row(3, 'dropDatabase', undefined, null, { collection: null, database: 'other' }))).documents.size).toBe(3);
  });

  it('a collection renamed onto the namespace: RenamedIntoError (its documents are the source collection\'s rows)', async () => {
    const dir = writeDir(fresh(), [[row(1, 'insert', 'a', { _id: 'a', v: 'staging' }, { collection: 'staging' }), row(2, 'rename', undefined, null, { collection: 'staging', to_namespace: 'shop.orders' })]]);
    await expect(currentStateFromLake({ dir }, SCOPE)).rejects.toThrow(RenamedIntoError);
    await expect(currentStateFromLake({ dir }, SCOPE)).rejects.toThrow('shop.orders: shop.staging was renamed onto it at seq 2');
  });

  it('a document row without document_key._id: UnplaceableRowsError', async () => {
    const dir = writeDir(fresh(), [[row(1, 'insert', undefined, { x: 1 }), row(2, 'insert', 'a', { _id: 'a' }, { document_key: '{"shard":"x"}' })]]);
    await expect(currentStateFromLake({ dir }, SCOPE)).rejects.toMatchObject({ name: 'UnplaceableRowsError', rows: 2 });
    await expect(currentStateFromLake({ dir }, SCOPE)).rejects.toThrow(UnplaceableRowsError);
  });

  it('keys are exact BSON values: int32 1, int64 1 and double 1.0 are three keys (a lake holding all three live is broken, and diffStates shows it)', async () => {
    const dir = writeDir(fresh(), [[
      row(1, 'insert', new Int32(1), { _id: new Int32(1) }),
      row(2, 'insert', Long.fromNumber(1), { _id: Long.fromNumber(1) }),
      row(3, 'insert', new Double(1), { _id: new Double(1) }),
      row(4, 'insert', new ObjectId('6561a1b2c3d4e5f601234568'), { _id: new ObjectId('6561a1b2c3d4e5f601234568') }),
    ]], 'parquet', 'zstd');
    const { documents } = await currentStateFromLake({ dir }, SCOPE);
    expect([...documents.keys()]).toEqual(expect.arrayContaining(['{"$numberInt":"1"}', '{"$numberLong":"1"}', '{"$numberDouble":"1.0"}', '{"$oid":"6561a1b2c3d4e5f601234568"}']));
    expect(documents.size).toBe(4);
    // The server can hold one of the three (the _id index holds them equal): the other two are extra.
    const server: DocumentsState = new Map([['{"$numberInt":"1"}', '{"_id":{"$numberInt":"1"}}'], ['{"$oid":"6561a1b2c3d4e5f601234568"}', '{"_id":{"$oid":"6561a1b2c3d4e5f601234568"}}']]);
    expect(diffStates(documents, server)).toMatchObject({ equal: false, missing: [], extra: expect.arrayContaining(['{"$numberLong":"1"}', '{"$numberDouble":"1.0"}']), different: [] });
  });

  it('a document above 16 MB (kept whole by OVERSIZE_EVENTS=split) reads back from JSONL and CSV', async () => {
    const big = { _id: 'big', blob: 'x'.repeat(17 * 1024 * 1024) };
    const dir = fresh();
    writeDir(join(dir, 'j'), [[row(1, 'insert', 'big', big)]], 'jsonl', 'zstd');
    writeDir(join(dir, 'c'), [[row(1, 'insert', 'big', big)]], 'csv', 'gzip');
    const { documents } = await currentStateFromLake({ dir }, SCOPE);
    expect(documents.get(ej('big'))?.length).toBe(ej(big).length);
    expect(documents.get(ej('big')) === ej(big)).toBe(true);
  }, 120_000);

  it('refuses a namespace without a database', async () => {
    await expect(currentStateFromLake({ dir: root }, { ...SCOPE, namespace: 'orders' })).rejects.toThrow(TypeError);
  });
});

describe('loading', () => {
  // tools/dev/run-ts.mjs bundles a tool with only `dependencies` external; DuckDB is a devDependency
  // with a native binding, which a literal import in this module made esbuild try (and fail) to bundle.
  it('@runnel/lake bundles as run-ts bundles the tools, DuckDB left to be required at run time', async () => {
    const { build } = await import('esbuild');
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const result = await build({
      stdin: { contents: "export * from '@runnel/lake';", resolveDir: REPO_ROOT, loader: 'ts' },
      bundle: true, platform: 'node', format: 'cjs', target: 'node24', write: false, metafile: true, logLevel: 'silent',
      tsconfig: join(REPO_ROOT, 'tsconfig.base.json'), external: Object.keys(pkg.dependencies), nodePaths: [join(REPO_ROOT, 'node_modules')],
    });
    expect(Object.keys(result.metafile.inputs).filter((f) => f.includes('@duckdb'))).toEqual([]);
    expect(result.outputFiles[0].text).toContain('("@duckdb/node-api")');
  });
});

describe('diffStates', () => {
  it('missing, extra and different, with a summary of the first 5 of each', () => {
    const server: DocumentsState = new Map([...Array(8)].map((_, i) => [ej(new Int32(i)), ej({ _id: new Int32(i), v: 'server' })]));
    const lake: DocumentsState = new Map([
      [ej(new Int32(0)), ej({ _id: new Int32(0), v: 'server' })],
      [ej(new Int32(1)), ej({ _id: new Int32(1), v: 'lake' })],
      [ej(new Int32(2)), ej({ _id: new Int32(2), v: new Int32(5) })],
      ...[...Array(6)].map((_, i) => [ej(`extra-${i}`), ej({ _id: `extra-${i}` })] as [string, string]),
    ]);
    const diff = diffStates(lake, server);
    expect(diff.equal).toBe(false);
    expect(diff.missing).toEqual([3, 4, 5, 6, 7].map((i) => ej(new Int32(i))));
    expect(diff.extra).toHaveLength(6);
    expect(diff.different).toEqual([
      { key: ej(new Int32(1)), lake: ej({ _id: new Int32(1), v: 'lake' }), server: ej({ _id: new Int32(1), v: 'server' }) },
      { key: ej(new Int32(2)), lake: ej({ _id: new Int32(2), v: new Int32(5) }), server: ej({ _id: new Int32(2), v: 'server' }) },
    ]);
    expect(diff.summary.split('\n')).toEqual([
      'lake (9 documents) ≠ server (8): 5 missing from the lake, 6 extra in the lake, 2 different',
      'missing: {"$numberInt":"3"}, {"$numberInt":"4"}, {"$numberInt":"5"}, {"$numberInt":"6"}, {"$numberInt":"7"}',
      'extra: "extra-0", "extra-1", "extra-2", "extra-3", "extra-4" (and 1 more)',
      'different {"$numberInt":"1"} from character 31: lake {"_id":{"$numberInt":"1"},"v":"lake"} / server {"_id":{"$numberInt":"1"},"v":"server"}',
      'different {"$numberInt":"2"} from character 30: lake {"_id":{"$numberInt":"2"},"v":{"$numberInt":"5"}} / server {"_id":{"$numberInt":"2"},"v":"server"}',
    ]);
  });

  it('equal states', () => {
    const s: DocumentsState = new Map([[ej('a'), ej({ _id: 'a' })]]);
    expect(diffStates(s, new Map(s))).toEqual({ equal: true, missing: [], extra: [], different: [], summary: 'lake and server agree on 1 document(s)' });
  });
});

describe('collectionState on the MongoDB stand-in (real driver)', () => {
  let mongo: MongoStandIn;
  let client: MongoClient;
  beforeAll(async () => {
    mongo = await MongoStandIn.start();
    client = new MongoClient(mongo.uri);
  });
  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });

  const TYPED: Document[] = [
    { _id: new ObjectId('6561a1b2c3d4e5f60123456a'), double: new Double(5), int: new Int32(5), long: Long.fromString('9007199254740993'), dec: Decimal128.fromString('1.10') },
    { _id: 'str', at: new Date('2026-12-01T22:00:00.123Z'), bin: new Binary(Buffer.from([1, 2, 3]), 0), uuid: new Binary(Buffer.alloc(16, 7), 4), re: new BSONRegExp('^a.b', 'imx'), nested: { a: [new Int32(1), new Double(-0)] } },
    { _id: new Int32(7), v: null },
    { _id: Long.fromNumber(8), v: true },
  ];

  it('every document as canonical EJSON keyed by its _id, BSON types as stored', async () => {
    const coll = client.db('state').collection<Document>('typed');
    await coll.insertMany(TYPED.map((d) => ({ ...d })));
    const state = await collectionState(coll);
    expect(state).toEqual(new Map(TYPED.map((d) => [ej(d._id), ej(d)])));
    expect(state.get(ej(new ObjectId('6561a1b2c3d4e5f60123456a')))).toBe(
      '{"_id":{"$oid":"6561a1b2c3d4e5f60123456a"},"double":{"$numberDouble":"5.0"},"int":{"$numberInt":"5"},"long":{"$numberLong":"9007199254740993"},"dec":{"$numberDecimal":"1.10"}}',
    );
    // An _id keeps the type it was written with, whatever type a query names it by.
    await coll.updateOne({ _id: Long.fromNumber(7) as never }, { $set: { v: 'found by int64 7' } });
    expect((await collectionState(coll)).get('{"$numberInt":"7"}')).toBe('{"_id":{"$numberInt":"7"},"v":"found by int64 7"}');
  });

  it('the server\'s documents written to the lake as snapshot rows give the same state; a later server change shows as different', async () => {
    const coll = client.db('state').collection<Document>('roundtrip');
    await coll.insertMany(TYPED.map((d) => ({ ...d })));
    const found = await coll.find({}, { promoteValues: false, promoteLongs: false, bsonRegExp: true }).toArray();
    const dir = writeDir(fresh(), [found.map((d, i) => row(i + 1, 'snapshot', d._id, d, { database: 'state', collection: 'roundtrip' }))], 'parquet', 'zstd');
    const lake = (await currentStateFromLake({ dir }, { ...SCOPE, namespace: 'state.roundtrip' })).documents;
    const same = diffStates(lake, await collectionState(coll));
    expect(same.equal || same.summary).toBe(true);

    await coll.updateOne({ _id: 'str' as never }, { $set: { 'nested.a.0': new Double(1) } });
    const changed = diffStates(lake, await collectionState(coll));
    expect(changed).toMatchObject({ equal: false, missing: [], extra: [], different: [{ key: '"str"' }] });
    expect(changed.summary).toContain('different "str" from character');
  });
});
