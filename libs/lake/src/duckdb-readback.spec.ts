import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { Double, EJSON, Int32, Long, ObjectId } from 'bson';
import { type ChangeEnvelope, ENVELOPE_FIELDS } from './change-envelope';
import { encodeObject } from './formats/object-codec';
import { type Compression, COMPRESSIONS, FORMATS, type ObjectFormat } from './formats/object-format';
import { hourPartition, objectKey } from './object-key';

/**
 * The lake read back the way an analyst reads it: DuckDB over a directory laid out exactly like
 * the object keys (hive strategy), with hive partition discovery, for every format × compression.
 * Only DuckDB's built-in extensions (json, parquet, icu): nothing is downloaded.
 */

const HOUR_22 = Date.UTC(2026, 10, 21, 22, 15, 0) / 1000;
const HOUR_23 = HOUR_22 + 3600;
const ej = (v: unknown) => EJSON.stringify(v, { relaxed: false });

function event(seq: number, operation: string, collection: string | null, seconds: number, increment: number, over: Partial<ChangeEnvelope> = {}): ChangeEnvelope {
  const id = new ObjectId(seq.toString(16).padStart(24, '0'));
  const document = collection === null ? null : { _id: id, price: new Double(5), qty: new Int32(2), big: Long.fromString('9007199254740993') };
  return {
    operation,
    database: 'shop',
    collection,
    document_key: document && ej({ _id: id }),
    full_document: operation === 'insert' ? ej(document) : null,
    full_document_before_change: null,
    update_description: null,
    operation_description: null,
    to_namespace: null,
    cluster_time: `${seconds}.${increment}`,
    event_time: new Date(seconds * 1000).toISOString(),
    cluster_time_increment: increment,
    wall_time: new Date(seconds * 1000 + 250).toISOString(),
    txn_number: null,
    lsid: null,
    stream: 'shop',
    generation: 1,
    seq,
    ...over,
  };
}

// Cluster-time order is seq order. seqs 1 and 2 are in the same second, increments 9 and 10.
const EVENTS: ChangeEnvelope[] = [
  event(1, 'insert', 'orders', HOUR_22, 9),
  event(2, 'insert', 'orders', HOUR_22, 10, { txn_number: '9007199254740993' }),
  event(3, 'insert', 'customers', HOUR_22, 11),
  event(4, 'delete', 'orders', HOUR_22 + 1, 1, { wall_time: null }),
  event(5, 'insert', 'orders', HOUR_23, 1, { lsid: '' }),
  event(6, 'rename', 'customers', HOUR_23, 2, { to_namespace: 'shop.clients' }),
  event(7, 'dropDatabase', null, HOUR_23, 3),
];
const PARTITION_COLUMNS = ['coll', 'year', 'month', 'day', 'hour'];

/** Batches as the pipeline cuts them: one collection (or the database) and one hour each. */
function batches(events: ChangeEnvelope[]): ChangeEnvelope[][] {
  const groups = new Map<string, ChangeEnvelope[]>();
  for (const e of events) {
    const k = `${e.collection}|${hourPartition(Number(e.cluster_time.split('.')[0]))}`;
    groups.set(k, [...(groups.get(k) ?? []), e]);
  }
  return [...groups.values()];
}

function writeLake(dir: string, format: ObjectFormat, compression: Compression): string[] {
  const keys: string[] = [];
  for (const batch of batches(EVENTS)) {
    const encoded = encodeObject(batch, format, compression);
    const key = objectKey({
      strategy: 'hive',
      prefix: '',
      stream: batch[0].stream,
      generation: batch[0].generation,
      collection: batch[0].collection,
      clusterSeconds: Number(batch[0].cluster_time.split('.')[0]),
      seqStart: batch[0].seq,
      seqEnd: batch.at(-1)!.seq,
      extension: encoded.extension,
    });
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), encoded.body);
    keys.push(key);
  }
  return keys;
}

/**
 * The table function an analyst would use. CSV needs `quote`/`escape` said explicitly (on small
 * files the sniffer may pick no quote and read `""` as two characters) and allow_quoted_nulls=false
 * (DuckDB's default reads a quoted empty field as NULL): then null and '' stay apart as written.
 */
function scan(dir: string, format: ObjectFormat, extension: string): string {
  const glob = `'${join(dir, '**', `*.${extension}`)}'`;
  if (format === 'parquet') return `read_parquet(${glob}, hive_partitioning=true)`;
  if (format === 'jsonl') return `read_json(${glob}, format='newline_delimited', hive_partitioning=true)`;
  return `read_csv(${glob}, header=true, quote='"', escape='"', allow_quoted_nulls=false, hive_partitioning=true)`;
}

let root: string;
let instance: DuckDBInstance;
let db: DuckDBConnection;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'runnel-duckdb-'));
  // No extension may be downloaded (no network): only the built-in ones are used.
  instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', threads: '1' });
  db = await instance.connect();
  await db.run(`SET TimeZone = 'UTC'`);
});
afterAll(() => {
  db?.closeSync();
  instance?.closeSync();
  rmSync(root, { recursive: true, force: true });
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

describe.each(FORMATS.flatMap((f) => COMPRESSIONS.map((c) => [f, c] as const)))('DuckDB reads %s + %s', (format, compression) => {
  let from: string;
  let dir: string;
  let keys: string[];
  beforeAll(() => {
    dir = join(root, `${format}-${compression}`);
    keys = writeLake(dir, format, compression);
    from = scan(dir, format, encodeObject(EVENTS.slice(0, 1), format, compression).extension);
  });

  it('discovers the hive partitions, and no column name is there twice', async () => {
    const names = (await rows(`DESCRIBE SELECT * FROM ${from}`)).map((r) => r.column_name as string);
    expect(new Set(names).size).toBe(names.length);
    // The envelope's columns in envelope order, then the partition columns (DuckDB sorts those by name).
    expect(names.slice(0, ENVELOPE_FIELDS.length)).toEqual(ENVELOPE_FIELDS);
    expect(names.slice(ENVELOPE_FIELDS.length).sort()).toEqual([...PARTITION_COLUMNS].sort());
  });

  // DuckDB lets a partition key shadow a column of the same name; Athena/Glue refuse the table
  // (kafka-connect-storage-common#290). So the rule is checked on the keys themselves.
  it('no partition key in the object keys repeats a data column', () => {
    const partitionKeys = new Set(keys.flatMap((k) => k.split('/').slice(0, -1).map((segment) => segment.split('=')[0])));
    expect([...partitionKeys]).toEqual(PARTITION_COLUMNS);
    expect(ENVELOPE_FIELDS.filter((f) => partitionKeys.has(f))).toEqual([]);
  });

  it('rows and seqs per partition are the objects written', async () => {
    const got = await rows(`SELECT coll, year, month, day, hour, list(seq ORDER BY seq) AS seqs FROM ${from} GROUP BY ALL ORDER BY hour, coll NULLS LAST`);
    expect(got.map((r) => [r.coll, Number(r.year), Number(r.month), Number(r.day), Number(r.hour), (r.seqs as string[]).map(Number)])).toEqual([
      ['customers', 2026, 11, 21, 22, [3]],
      ['orders', 2026, 11, 21, 22, [1, 2, 4]],
      ['customers', 2026, 11, 21, 23, [6]],
      ['orders', 2026, 11, 21, 23, [5]],
      [null, 2026, 11, 21, 23, [7]],
    ]);
  });

  it('the database-level event is in the NULL partition, its collection NULL, and it keeps its fields', async () => {
    expect(await rows(`SELECT seq::INTEGER AS seq, operation, database, collection FROM ${from} WHERE coll IS NULL`)).toEqual([
      { seq: 7, operation: 'dropDatabase', database: 'shop', collection: null },
    ]);
    expect(await rows(`SELECT count(*)::INTEGER AS n FROM ${from} WHERE collection = '' OR coll = ''`)).toEqual([{ n: 0 }]);
    expect(await rows(`SELECT to_namespace FROM ${from} WHERE operation = 'rename'`)).toEqual([{ to_namespace: 'shop.clients' }]);
  });

  it('ORDER BY event_time, cluster_time_increment is cluster-time order: …300.9 before …300.10', async () => {
    const ordered = await rows(`SELECT seq::INTEGER AS seq FROM ${from} ORDER BY event_time, cluster_time_increment`);
    expect(ordered.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('(why the typed columns: cluster_time, as text or as the number a CSV sniffer makes of it, puts …300.10 before …300.9)', async () => {
    const byText = await rows(`SELECT seq::INTEGER AS seq FROM ${from} ORDER BY cluster_time`);
    expect(byText.map((r) => r.seq)).toEqual([2, 3, 1, 4, 5, 6, 7]);
  });

  it('event_time and wall_time are UTC instants; Parquet types them TIMESTAMP WITH TIME ZONE; numbers are BIGINT', async () => {
    const types = Object.fromEntries((await rows(`DESCRIBE SELECT * FROM ${from}`)).map((r) => [r.column_name, r.column_type]));
    if (format === 'parquet') {
      expect(types).toMatchObject({ event_time: 'TIMESTAMP WITH TIME ZONE', wall_time: 'TIMESTAMP WITH TIME ZONE', txn_number: 'BIGINT' });
    } else {
      // Text formats: DuckDB's sniffer infers the ISO-8601 'Z' values as timestamps (JSON: TIMESTAMP in UTC, CSV: TIMESTAMPTZ).
      expect(['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE']).toContain(types.event_time);
    }
    expect(types).toMatchObject({ cluster_time_increment: 'BIGINT', generation: 'BIGINT', seq: 'BIGINT' });
    const got = await rows(`SELECT seq::INTEGER AS seq, epoch_ms(event_time::TIMESTAMPTZ)::BIGINT::VARCHAR AS event_ms, epoch_ms(wall_time::TIMESTAMPTZ)::BIGINT::VARCHAR AS wall_ms FROM ${from} ORDER BY seq`);
    expect(got).toEqual(EVENTS.map((e) => ({ seq: e.seq, event_ms: String(Date.parse(e.event_time)), wall_ms: e.wall_time === null ? null : String(Date.parse(e.wall_time)) })));
  });

  it('a double 5.0 in full_document is still a double', async () => {
    const [r] = await rows(`SELECT json_extract(full_document, '$.price')::VARCHAR AS price, json_extract_string(full_document, '$.qty."$numberInt"') AS qty, full_document FROM ${from} WHERE seq = 1`);
    expect(r.price).toBe('{"$numberDouble":"5.0"}');
    expect(r.qty).toBe('2');
    const doc = EJSON.parse(r.full_document as string, { relaxed: false }) as { price: unknown; qty: unknown; big: unknown };
    expect(doc.price).toBeInstanceOf(Double);
    expect(doc.qty).toBeInstanceOf(Int32);
    expect(doc.big).toBeInstanceOf(Long);
  });

  it("null and '' stay apart", async () => {
    expect(await rows(`SELECT seq::INTEGER AS seq, lsid FROM ${from} WHERE seq IN (4, 5) ORDER BY seq`)).toEqual([
      { seq: 4, lsid: null },
      { seq: 5, lsid: '' },
    ]);
  });
});

describe('Parquet file metadata', () => {
  it('event_time and wall_time are TIMESTAMP(MILLIS) with isAdjustedToUTC=true; the counters INT64', async () => {
    const dir = join(root, 'parquet-metadata');
    const [key] = writeLake(dir, 'parquet', 'zstd');
    const schema = await rows(`SELECT name, type, logical_type::VARCHAR AS logical_type FROM parquet_schema('${join(dir, key)}')`);
    const byName = Object.fromEntries(schema.map((s) => [s.name, s]));
    for (const column of ['event_time', 'wall_time']) {
      expect(byName[column]).toMatchObject({ type: 'INT64' });
      expect(byName[column].logical_type).toMatch(/TimestampType\(isAdjustedToUTC=(1|true), unit=TimeUnit\(MILLIS/);
    }
    for (const column of ['cluster_time_increment', 'generation', 'seq', 'txn_number']) expect(byName[column]).toMatchObject({ type: 'INT64' });
    expect(byName.cluster_time).toMatchObject({ type: 'BYTE_ARRAY' });
  });
});

describe('collection names in the coll= partition', () => {
  it('escaped names (objectKey percent-encodes "/", " ", "+" …) read back as the name', async () => {
    const dir = join(root, 'escaped');
    const name = 'my orders/2026+x';
    const batch = [event(1, 'insert', name, HOUR_22, 1)];
    const encoded = encodeObject(batch, 'jsonl', 'none');
    const key = objectKey({ strategy: 'hive', prefix: '', stream: 'shop', generation: 1, collection: name, clusterSeconds: HOUR_22, seqStart: 1, seqEnd: 1, extension: encoded.extension });
    expect(key.split('/')[0]).toBe('coll=my%20orders%2F2026%2Bx');
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), encoded.body);
    expect(await rows(`SELECT coll, collection FROM ${scan(dir, 'jsonl', 'jsonl')}`)).toEqual([{ coll: name, collection: name }]);
  });

  it('a lake whose collection names all look like numbers: DuckDB would type coll as a number; hive_types keeps it text', async () => {
    const dir = join(root, 'numeric');
    const encoded = encodeObject([event(1, 'insert', '2026', HOUR_22, 1)], 'jsonl', 'none');
    const key = objectKey({ strategy: 'hive', prefix: '', stream: 'shop', generation: 1, collection: '2026', clusterSeconds: HOUR_22, seqStart: 1, seqEnd: 1, extension: encoded.extension });
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), encoded.body);
    const glob = `'${join(dir, '**', '*.jsonl')}'`;
    const typeOf = async (sql: string) => (await rows(`DESCRIBE SELECT coll FROM ${sql}`))[0].column_type;
    expect(await typeOf(`read_json(${glob}, format='newline_delimited', hive_partitioning=true)`)).toBe('BIGINT');
    expect(await typeOf(`read_json(${glob}, format='newline_delimited', hive_partitioning=true, hive_types={'coll': VARCHAR})`)).toBe('VARCHAR');
  });
});
