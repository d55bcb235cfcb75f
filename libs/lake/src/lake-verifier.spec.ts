import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3Server } from '@runnel/testing';
import type { ChangeEnvelope } from './change-envelope';
import { encodeObject } from './formats/object-codec';
import type { ObjectFormat } from './formats/object-format';
import { readLakeEnvelopes, readLakeObjects } from './lake-objects';
import { canonicalEjson, lakeState } from './lake-state';
import { describeLake, describeStream, isCleanStream, verifyLake } from './lake-verifier';
import { objectKey } from './object-key';

const SECONDS = Date.UTC(2026, 10, 21, 22, 15, 0) / 1000;

function ev(stream: string, generation: number, seq: number, collection: string | null = 'orders', operation = 'insert'): ChangeEnvelope {
  const id = canonicalEjson({ _id: `${generation}-${seq}` });
  return {
    operation, database: 'shop', collection,
    document_key: collection === null ? null : id,
    full_document: operation === 'insert' ? canonicalEjson({ _id: `${generation}-${seq}`, stream }) : null,
    full_document_before_change: null, update_description: null, operation_description: null, to_namespace: null,
    cluster_time: `${SECONDS}.${seq}`, event_time: new Date(SECONDS * 1000).toISOString(), cluster_time_increment: seq,
    wall_time: null, txn_number: null, lsid: null, stream, generation, seq,
  };
}

let s3server: S3Server;
let s3: S3Client;
async function put(events: ChangeEnvelope[], format: ObjectFormat, keyOver: Partial<{ generation: number; key: string }> = {}): Promise<string> {
  const encoded = encodeObject(events, format, 'zstd');
  const key =
    keyOver.key ??
    objectKey({
      strategy: 'hive', prefix: 'v', stream: events[0].stream, generation: keyOver.generation ?? events[0].generation, collection: events[0].collection,
      clusterSeconds: SECONDS, seqStart: events[0].seq, seqEnd: events.at(-1)!.seq, extension: encoded.extension,
    });
  await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: key, Body: encoded.body }));
  return key;
}

beforeAll(async () => {
  s3server = await S3Server.start(['lake']);
  s3 = new S3Client(s3server.clientConfig);
  // shop, generation 1: complete, a database-level event included.
  await put([ev('shop', 1, 1), ev('shop', 1, 2), ev('shop', 1, 3)], 'jsonl');
  await put([ev('shop', 1, 4, null, 'dropDatabase')], 'csv');
  // shop, generation 2: seq restarted at 1; 3 is missing. Its seqs never count as generation 1's duplicates.
  await put([ev('shop', 2, 1), ev('shop', 2, 2)], 'parquet');
  await put([ev('shop', 2, 4), ev('shop', 2, 5, 'users')], 'jsonl');
  // other, generation 1: seq 2 stored twice.
  await put([ev('other', 1, 1), ev('other', 1, 2)], 'jsonl');
  await put([ev('other', 1, 2), ev('other', 1, 3)], 'csv');
  // other, generation 1, under a name from before generations (read as generation 1).
  await put([ev('other', 1, 4)], 'jsonl', { key: 'v/collection=orders/year=2026/month=11/day=21/hour=22/other+00000000000000000004+00000000000000000004.jsonl.zst' });
  // other, generation 3 by its key, generation 2 by its content: a bad object.
  await put([ev('other', 2, 1)], 'jsonl', { generation: 3 });
  await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'v/readme.txt', Body: 'not an object' }));
});
afterAll(async () => {
  s3.destroy();
  await s3server.stop();
});

describe('verifyLake', () => {
  it('reports per (stream, generation): gaps and duplicates within a generation only', async () => {
    const reports = await verifyLake(s3, 'lake', 'v/');
    expect(reports.map((r) => [r.stream, r.generation])).toEqual([['other', 1], ['other', 3], ['shop', 1], ['shop', 2]]);
    const [other1, other3, shop1, shop2] = reports;
    expect(shop1).toMatchObject({ objects: 2, events: 4, collections: { orders: 3 }, databaseEvents: 1, maxSeq: 4, missing: 0, duplicates: 0, badObjects: [] });
    expect(isCleanStream(shop1)).toBe(true);
    expect(shop2).toMatchObject({ objects: 2, events: 4, collections: { orders: 3, users: 1 }, databaseEvents: 0, maxSeq: 5, missing: 1, missingSample: [3], duplicates: 0 });
    expect(other1).toMatchObject({ objects: 3, events: 5, maxSeq: 4, missing: 0, duplicates: 1, duplicateSample: [2], badObjects: [] });
    expect(other3).toMatchObject({ objects: 1, events: 1, badObjects: ['v/coll=orders/year=2026/month=11/day=21/hour=22/other+0000000003+00000000000000000001+00000000000000000001.jsonl.zst'] });
    expect(describeStream(shop1)).toBe('stream shop generation 1: 2 objects, 4 events (seq 1..4), missing 0, duplicated 0 — OK');
    expect(describeStream(shop2)).toBe('stream shop generation 2: 2 objects, 4 events (seq 1..5), missing 1, duplicated 0 — PROBLEM');
  });

  it('describeLake: a line per stream generation (with details, what it holds and lacks); clean when every one is', async () => {
    const reports = await verifyLake(s3, 'lake', 'v/');
    const [other1, other3, shop1, shop2] = reports;
    expect(describeLake(reports)).toEqual({ clean: false, lines: reports.map(describeStream) });
    expect(describeLake([shop1, shop2], { details: true }).lines).toEqual([
      describeStream(shop1),
      '  orders: 3 events',
      '  (database-level, no collection): 1 events',
      describeStream(shop2),
      '  orders: 3 events',
      '  users: 1 events',
      '  first missing seqs: 3',
    ]);
    expect(describeLake([other1], { details: true }).lines.at(-1)).toBe('  first duplicated seqs: 2');
    expect(describeLake([other3], { details: true }).lines.at(-1)).toBe(`  bad object: ${other3.badObjects[0]}`);
    expect(describeLake([shop1]).clean).toBe(true);
    expect(describeLake([]).clean).toBe(false);
  });
});

describe('reading a lake prefix back', () => {
  it('readLakeObjects lists and decodes every Runnel object, with what its key says', async () => {
    const objects = [];
    for await (const o of readLakeObjects(s3, 'lake', 'v/')) objects.push(o);
    expect(objects).toHaveLength(8);
    const old = objects.find((o) => o.key.includes('/collection=orders/'))!;
    expect(old).toMatchObject({ stream: 'other', generation: 1, seqStart: 4, seqEnd: 4, extension: 'jsonl.zst' });
    expect(old.events).toEqual([ev('other', 1, 4)]);
  });

  it('readLakeEnvelopes feeds lakeState: one stream, both generations', async () => {
    const events = await readLakeEnvelopes(s3, 'lake', 'v/', 'shop');
    expect(events.map((e) => `${e.generation}:${e.seq}`).sort()).toEqual(['1:1', '1:2', '1:3', '1:4', '2:1', '2:2', '2:4', '2:5']);
    const state = lakeState(events);
    // generation 1's documents went with its dropDatabase; generation 2's are what is left.
    expect(state.collections).toEqual(new Map([
      ['shop.orders', new Map(['2-1', '2-2', '2-4'].map((id) => [canonicalEjson(id), canonicalEjson({ _id: id, stream: 'shop' })]))],
      ['shop.users', new Map([[canonicalEjson('2-5'), canonicalEjson({ _id: '2-5', stream: 'shop' })]])],
    ]));
  });
});
