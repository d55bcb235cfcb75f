import { EJSON } from 'bson';
import { Int32 } from 'mongodb';
import { canonicalEjson, type ChangeEnvelope } from '@runnel/lake';
import { checkSnapshotRows, documentRef, type SnapshotExpectation } from './snapshot-lake-checks';

const P = '1767225600.3';

function row(seq: number, operation: string, id: unknown, doc: Record<string, unknown> | null, over: Partial<ChangeEnvelope> = {}): ChangeEnvelope {
  return {
    operation,
    database: 'shop',
    collection: 'orders',
    document_key: EJSON.stringify({ _id: id }, { relaxed: false }),
    full_document: doc === null ? null : EJSON.stringify(doc, { relaxed: false }),
    full_document_before_change: null,
    update_description: null,
    operation_description: null,
    to_namespace: null,
    cluster_time: operation === 'snapshot' ? P : `1767225601.${seq}`,
    event_time: '2026-01-01T00:00:00.000Z',
    cluster_time_increment: seq,
    wall_time: null,
    txn_number: null,
    lsid: null,
    stream: 'shop',
    generation: 1,
    seq,
    ...over,
  };
}

const seeded = (j: number) => ({ _id: new Int32(j), v: new Int32(0) });
const ref = (j: number) => documentRef('orders', new Int32(j));

/** Documents 1..3 seeded; 2 written during the run; 4 deleted before its chunk was read. */
function expectation(over: Partial<SnapshotExpectation> = {}): SnapshotExpectation {
  return {
    database: 'shop',
    mustRead: new Map([
      [ref(1), 1],
      [ref(2), null],
      [ref(3), 3],
    ]),
    deletedBeforeRead: new Set([ref(4)]),
    onServer: new Set([ref(1), ref(3)]),
    seeded: (j) => canonicalEjson(seeded(j)),
    ...over,
  };
}

/** A clean lake: three rows, then document 2 updated and deleted, 4's delete. */
const clean = () => [
  row(1, 'snapshot', new Int32(1), seeded(1)),
  row(2, 'snapshot', new Int32(2), { _id: new Int32(2), v: new Int32(1) }),
  row(3, 'snapshot', new Int32(3), seeded(3)),
  row(4, 'delete', new Int32(4), null),
  row(5, 'update', new Int32(2), { _id: new Int32(2), v: new Int32(2) }),
  row(6, 'delete', new Int32(2), null),
];

describe('checkSnapshotRows', () => {
  it('passes a lake whose rows are the documents the snapshot had to read, once each, before the events', () => {
    const c = checkSnapshotRows([...clean(), ...clean().slice(0, 2)], expectation()); // copies of one seq count once
    expect(c.ok).toBe(true);
    expect(c.rowsPerGeneration).toEqual({ 1: 3 });
    expect(c.eventsPerGeneration).toEqual({ 1: 3 });
  });

  it('finds a second row of one document', () => {
    const lake = [...clean(), row(7, 'snapshot', new Int32(3), seeded(3))];
    const c = checkSnapshotRows(lake, expectation());
    expect(c.onePerDocument.ok).toBe(false);
    expect(c.onePerDocument.samples).toEqual([`generation 1 ${ref(3)}: seqs 3, 7`]);
    expect(c.rowsBeforeEvents.ok).toBe(false);
  });

  it('finds a document without its row, and a row for one the snapshot could not have read', () => {
    const lake = clean().filter((e) => e.seq !== 3);
    lake.push(row(3, 'snapshot', new Int32(9), { _id: new Int32(9) }));
    const c = checkSnapshotRows(lake, expectation({ onServer: new Set([ref(1), ref(3), ref(9)]) }));
    expect(c.exactRowSet.ok).toBe(false);
    expect(c.exactRowSet.samples).toEqual([`no row: ${ref(3)}`, `unexpected row: ${ref(9)}`]);
  });

  it('finds a row for a document deleted before its chunk was read, and one whose document vanished without a later delete', () => {
    const lake = [...clean().filter((e) => e.seq !== 6), row(6, 'snapshot', new Int32(4), seeded(4))].map((e) => (e.seq === 4 ? row(4, 'update', new Int32(1), seeded(1)) : e));
    const c = checkSnapshotRows(lake.sort((a, b) => a.seq - b.seq), expectation());
    expect(c.noRowForDeleted.ok).toBe(false);
    expect(c.noRowForDeleted.samples[0]).toBe(`row for deleted-before-read ${ref(4)}`);
    expect(c.noRowForDeleted.samples.some((s) => s.startsWith(`generation 1 ${ref(2)}`))).toBe(true);
  });

  it('finds events among the rows and rows at more than one cluster time', () => {
    const lake = clean().map((e) => (e.seq === 2 ? row(2, 'update', new Int32(2), { _id: new Int32(2) }) : e));
    lake.push(row(7, 'snapshot', new Int32(2), { _id: new Int32(2) }, { cluster_time: '1767225600.4' }));
    const c = checkSnapshotRows(lake, expectation());
    expect(c.rowsBeforeEvents.ok).toBe(false);
    expect(c.rowsBeforeEvents.samples).toEqual([
      'generation 1: 3 rows but the highest row seq is 7',
      'generation 1: 4 change events among the rows (seq 2, 4, 5, 6 < 7)',
      `generation 1: rows at 2 cluster times (${P}, 1767225600.4), not all at P's`,
    ]);
  });

  it('finds an untouched document whose row differs from the seeded one, or that has more rows than its snapshot row', () => {
    const changed = clean().map((e) => (e.seq === 1 ? row(1, 'snapshot', new Int32(1), { _id: new Int32(1), v: new Int32(7) }) : e));
    expect(checkSnapshotRows(changed, expectation()).untouched.samples[0]).toMatch(/^orders\|\{"\$numberInt":"1"\}: row seq 1 holds .*"7".*, seeded /);
    const written = [...clean(), row(7, 'update', new Int32(3), seeded(3))];
    expect(checkSnapshotRows(written, expectation()).untouched.samples).toEqual([`${ref(3)}: 2 rows`]);
  });

  it('checks only the watched database', () => {
    const c = checkSnapshotRows([...clean(), row(7, 'snapshot', new Int32(3), seeded(3), { database: 'other' })], expectation());
    expect(c.ok).toBe(true);
  });
});
