import { hourPartition, objectKey, parseObjectKey } from './object-key';

const base = {
  prefix: 'lake',
  stream: 'shop',
  collection: 'orders',
  clusterSeconds: Date.UTC(2026, 10, 21, 22, 15, 0) / 1000,
  seqStart: 1001,
  seqEnd: 2000,
  extension: 'jsonl.zst',
};
const FILE = 'shop+00000000000000001001+00000000000000002000.jsonl.zst';

describe('objectKey', () => {
  it.each([
    ['hive', `lake/collection=orders/year=2026/month=11/day=21/hour=22/${FILE}`],
    ['date_hour', `lake/orders/2026/11/21/22/${FILE}`],
    ['date', `lake/orders/2026/11/21/${FILE}`],
    ['collection', `lake/orders/${FILE}`],
    ['flat', `lake/orders+${FILE}`],
  ] as const)('%s', (strategy, expected) => {
    expect(objectKey({ ...base, strategy })).toBe(expected);
  });

  it('is a function of the data only: same batch, same key', () => {
    expect(objectKey({ ...base, strategy: 'hive' })).toBe(objectKey({ ...base, strategy: 'hive' }));
    expect(objectKey({ ...base, strategy: 'hive', seqEnd: 2001 })).not.toBe(objectKey({ ...base, strategy: 'hive' }));
  });

  it('escapes characters that would add path levels or break parsing, and parses back', () => {
    const key = objectKey({ ...base, strategy: 'flat', prefix: '', stream: 'a/b+c', collection: 'x/y' });
    expect(key).toBe('x%2Fy+a%2Fb%2Bc+00000000000000001001+00000000000000002000.jsonl.zst');
    expect(parseObjectKey(key)).toEqual({ stream: 'a/b+c', seqStart: 1001, seqEnd: 2000, extension: 'jsonl.zst' });
    expect(parseObjectKey(objectKey({ ...base, strategy: 'hive' }))).toEqual({ stream: 'shop', seqStart: 1001, seqEnd: 2000, extension: 'jsonl.zst' });
    expect(parseObjectKey('lake/readme.txt')).toBeUndefined();
  });

  it('hourPartition is the UTC hour', () => {
    expect(hourPartition(base.clusterSeconds)).toBe('2026-11-21T22');
  });
});
