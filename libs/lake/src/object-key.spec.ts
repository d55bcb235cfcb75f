import { hourPartition, objectKey, parseObjectKey } from './object-key';

const base = {
  prefix: 'lake',
  stream: 'shop',
  generation: 3,
  collection: 'orders' as string | null,
  clusterSeconds: Date.UTC(2026, 10, 21, 22, 15, 0) / 1000,
  seqStart: 1001,
  seqEnd: 2000,
  extension: 'jsonl.zst',
};
const FILE = 'shop+0000000003+00000000000000001001+00000000000000002000.jsonl.zst';

describe('objectKey', () => {
  it.each([
    ['hive', `lake/coll=orders/year=2026/month=11/day=21/hour=22/${FILE}`],
    ['date_hour', `lake/orders/2026/11/21/22/${FILE}`],
    ['date', `lake/orders/2026/11/21/${FILE}`],
    ['collection', `lake/orders/${FILE}`],
    ['flat', `lake/orders+${FILE}`],
  ] as const)('%s', (strategy, expected) => {
    expect(objectKey({ ...base, strategy })).toBe(expected);
  });

  // The envelope has a `collection` column; a hive key of the same name is refused by Athena/Glue
  // (kafka-connect-storage-common#290), so the partition key is `coll`.
  it('the hive partition key is not an envelope column', () => {
    const key = objectKey({ ...base, strategy: 'hive' });
    expect(key).toMatch(/^lake\/coll=orders\//);
    expect(key).not.toContain('collection=');
  });

  // Database-level events (dropDatabase) have no collection: never an empty `coll=` partition.
  it.each([
    ['hive', `lake/coll=__HIVE_DEFAULT_PARTITION__/year=2026/month=11/day=21/hour=22/${FILE}`],
    ['date_hour', `lake/_database/2026/11/21/22/${FILE}`],
    ['date', `lake/_database/2026/11/21/${FILE}`],
    ['collection', `lake/_database/${FILE}`],
    ['flat', `lake/_database+${FILE}`],
  ] as const)('a database-level event (collection null), %s', (strategy, expected) => {
    expect(objectKey({ ...base, strategy, collection: null })).toBe(expected);
  });

  it('is a function of the data only: same batch, same key; generation and range are part of it', () => {
    expect(objectKey({ ...base, strategy: 'hive' })).toBe(objectKey({ ...base, strategy: 'hive' }));
    expect(objectKey({ ...base, strategy: 'hive', seqEnd: 2001 })).not.toBe(objectKey({ ...base, strategy: 'hive' }));
    expect(objectKey({ ...base, strategy: 'hive', generation: 4 })).not.toBe(objectKey({ ...base, strategy: 'hive' }));
  });

  it('keys of one stream sort by generation, then by seq', () => {
    const keys = [
      objectKey({ ...base, strategy: 'collection', generation: 2, seqStart: 10, seqEnd: 20 }),
      objectKey({ ...base, strategy: 'collection', generation: 1, seqStart: 900, seqEnd: 1000 }),
      objectKey({ ...base, strategy: 'collection', generation: 2, seqStart: 2, seqEnd: 9 }),
      objectKey({ ...base, strategy: 'collection', generation: 10, seqStart: 1, seqEnd: 1 }),
    ];
    expect([...keys].sort().map((k) => parseObjectKey(k)).map((p) => [p!.generation, p!.seqStart])).toEqual([[1, 900], [2, 2], [2, 10], [10, 1]]);
  });

  it('escapes characters that would add path levels or break parsing, and parses back', () => {
    const key = objectKey({ ...base, strategy: 'flat', prefix: '', stream: 'a/b+c', collection: 'x/y' });
    expect(key).toBe('x%2Fy+a%2Fb%2Bc+0000000003+00000000000000001001+00000000000000002000.jsonl.zst');
    expect(parseObjectKey(key)).toEqual({ stream: 'a/b+c', generation: 3, seqStart: 1001, seqEnd: 2000, extension: 'jsonl.zst' });
    expect(parseObjectKey(objectKey({ ...base, strategy: 'hive' }))).toEqual({ stream: 'shop', generation: 3, seqStart: 1001, seqEnd: 2000, extension: 'jsonl.zst' });
    expect(parseObjectKey(objectKey({ ...base, strategy: 'hive', stream: '*', collection: null }))).toEqual({ stream: '*', generation: 3, seqStart: 1001, seqEnd: 2000, extension: 'jsonl.zst' });
    expect(parseObjectKey('lake/readme.txt')).toBeUndefined();
  });

  it('reads names written before generations existed as generation 1', () => {
    const old = 'lake/collection=orders/year=2026/month=11/day=21/hour=22/shop+00000000000000001001+00000000000000002000.jsonl.zst';
    expect(parseObjectKey(old)).toEqual({ stream: 'shop', generation: 1, seqStart: 1001, seqEnd: 2000, extension: 'jsonl.zst' });
    expect(parseObjectKey('orders+shop+00000000000000000001+00000000000000000009.parquet')).toEqual({ stream: 'shop', generation: 1, seqStart: 1, seqEnd: 9, extension: 'parquet' });
  });

  it('hourPartition is the UTC hour', () => {
    expect(hourPartition(base.clusterSeconds)).toBe('2026-11-21T22');
  });
});
