import { Double, EJSON, Int32, ObjectId } from 'bson';
import type { ChangeEnvelope } from './change-envelope';
import { canonicalEjson, lakeState, SeveralStreamsError, UnplaceableEventError } from './lake-state';

const ej = canonicalEjson;
let clock = 0;

function ev(generation: number, seq: number, operation: string, ns: string | null, id: unknown, doc: Record<string, unknown> | null, over: Partial<ChangeEnvelope> = {}): ChangeEnvelope {
  const [database, collection] = ns === null ? ['shop', null] : (ns.split('.') as [string, string]);
  const second = 1_763_763_300 + clock++;
  return {
    operation, database, collection,
    document_key: id === undefined ? null : ej({ _id: id }),
    full_document: doc === null ? null : ej(doc),
    full_document_before_change: null, update_description: null, operation_description: null, to_namespace: null,
    cluster_time: `${second}.1`, event_time: new Date(second * 1000).toISOString(), cluster_time_increment: 1,
    wall_time: null, txn_number: null, lsid: null, stream: 'shop', generation, seq, ...over,
  };
}

const a = new ObjectId('6561a1b2c3d4e5f601234567');
const b = 'b-string-id';
const c = new Int32(3);

describe('lakeState', () => {
  it('the latest event per _id by (generation, seq) wins, whatever order the events come in', () => {
    const events = [
      ev(1, 1, 'insert', 'shop.orders', a, { _id: a, n: new Int32(1) }),
      ev(1, 2, 'insert', 'shop.orders', b, { _id: b, n: new Double(5) }),
      ev(1, 3, 'update', 'shop.orders', a, { _id: a, n: new Int32(2) }),
      ev(1, 4, 'delete', 'shop.orders', b, null),
      ev(1, 5, 'insert', 'shop.orders', c, { _id: c, price: new Double(5) }),
      // A new generation starts again at seq 1 and follows every event of the one before.
      ev(2, 1, 'replace', 'shop.orders', a, { _id: a, n: new Int32(3), replaced: true }),
      ev(2, 2, 'insert', 'shop.orders', b, { _id: b, again: true }),
    ];
    const shuffled = [events[6], events[2], events[0], events[5], events[4], events[1], events[3]];
    const state = lakeState(shuffled);
    expect(state.collections).toEqual(new Map([
      ['shop.orders', new Map([
        [ej(a), ej({ _id: a, n: new Int32(3), replaced: true })],
        [ej(c), '{"_id":{"$numberInt":"3"},"price":{"$numberDouble":"5.0"}}'],
        [ej(b), ej({ _id: b, again: true })],
      ])],
    ]));
    expect(state).toMatchObject({ unknown: [], events: 7, ignored: 0 });
  });

  it('compares with what the driver\'s find() returns, as canonical EJSON keyed by _id', () => {
    // What a test gets from find({}, { promoteValues: false }): BSON types kept.
    const found = [{ _id: a, price: new Double(5), qty: new Int32(5) }];
    const state = lakeState([ev(1, 1, 'insert', 'shop.orders', a, { _id: a, price: new Double(5), qty: new Int32(5) })]);
    expect(state.collections.get('shop.orders')).toEqual(new Map(found.map((d) => [canonicalEjson(d._id), canonicalEjson(d)])));
    // …and a double is not an int: the comparison would catch a lost type.
    expect(state.collections.get('shop.orders')!.get(ej(a))).not.toBe(canonicalEjson({ _id: a, price: new Int32(5), qty: new Int32(5) }));
  });

  it('an update without a document keeps the previous version and reports it unknown, until a later event settles it', () => {
    const state = lakeState([
      ev(1, 1, 'insert', 'shop.orders', a, { _id: a, v: 1 }),
      ev(1, 2, 'update', 'shop.orders', a, null),
      ev(1, 3, 'update', 'shop.orders', b, null),
      ev(1, 4, 'insert', 'shop.orders', c, { _id: c }),
      ev(1, 5, 'update', 'shop.orders', c, null),
      ev(1, 6, 'delete', 'shop.orders', c, null),
    ]);
    expect(state.collections.get('shop.orders')).toEqual(new Map([[ej(a), ej({ _id: a, v: 1 })]]));
    expect(state.unknown).toEqual([
      { namespace: 'shop.orders', id: ej(a), operation: 'update', generation: 1, seq: 2 },
      { namespace: 'shop.orders', id: ej(b), operation: 'update', generation: 1, seq: 3 },
    ]);
  });

  it('an emptied collection is an empty map; drop removes the collection, dropDatabase every collection of the database', () => {
    const state = lakeState([
      ev(1, 1, 'insert', 'shop.orders', a, { _id: a }),
      ev(1, 2, 'insert', 'shop.users', a, { _id: a }),
      ev(1, 3, 'insert', 'other.things', a, { _id: a }),
      ev(1, 4, 'insert', 'shop.empty', a, { _id: a }),
      ev(1, 5, 'delete', 'shop.empty', a, null),
      ev(1, 6, 'update', 'shop.users', b, null),
      ev(1, 7, 'drop', 'shop.orders', undefined, null),
    ]);
    expect([...state.collections.keys()].sort()).toEqual(['other.things', 'shop.empty', 'shop.users']);
    expect(state.collections.get('shop.empty')).toEqual(new Map());

    const afterDropDatabase = lakeState([
      ev(1, 1, 'insert', 'shop.orders', a, { _id: a }),
      ev(1, 2, 'update', 'shop.users', b, null),
      ev(1, 3, 'insert', 'other.things', a, { _id: a }),
      ev(1, 4, 'drop', 'shop.orders', undefined, null),
      ev(1, 5, 'drop', 'shop.users', undefined, null),
      ev(1, 6, 'dropDatabase', null, undefined, null),
      ev(1, 7, 'insert', 'shop.orders', c, { _id: c }),
    ]);
    expect(afterDropDatabase.collections).toEqual(new Map([
      ['other.things', new Map([[ej(a), ej({ _id: a })]])],
      ['shop.orders', new Map([[ej(c), ej({ _id: c })]])],
    ]));
    expect(afterDropDatabase.unknown).toEqual([]);
  });

  it('rename moves the documents (and what is unknown) to to_namespace, replacing the target', () => {
    const state = lakeState([
      ev(1, 1, 'insert', 'shop.orders', a, { _id: a, v: 'moved' }),
      ev(1, 2, 'update', 'shop.orders', b, null),
      ev(1, 3, 'insert', 'archive.orders', c, { _id: c, v: 'replaced by the rename' }),
      ev(1, 4, 'rename', 'shop.orders', undefined, null, { to_namespace: 'archive.orders' }),
      ev(1, 5, 'insert', 'shop.orders', c, { _id: c, v: 'new collection, same name' }),
    ]);
    expect(state.collections).toEqual(new Map([
      ['archive.orders', new Map([[ej(a), ej({ _id: a, v: 'moved' })]])],
      ['shop.orders', new Map([[ej(c), ej({ _id: c, v: 'new collection, same name' })]])],
    ]));
    expect(state.unknown).toEqual([{ namespace: 'archive.orders', id: ej(b), operation: 'update', generation: 1, seq: 2 }]);
  });

  it('snapshot rows are documents: later events of the same _id supersede them, a delete removes them', () => {
    const state = lakeState([
      ev(1, 1, 'snapshot', 'shop.orders', a, { _id: a, n: new Int32(1) }),
      ev(1, 2, 'snapshot', 'shop.orders', b, { _id: b, n: new Int32(1) }),
      ev(1, 3, 'snapshot', 'shop.orders', c, { _id: c }),
      ev(1, 4, 'update', 'shop.orders', a, { _id: a, n: new Int32(2) }),
      ev(1, 5, 'delete', 'shop.orders', b, null),
    ]);
    expect([...state.collections.get('shop.orders')!]).toEqual([
      [ej(a), ej({ _id: a, n: new Int32(2) })],
      [ej(c), ej({ _id: c })],
    ]);
    expect(state.ignored).toBe(0);
  });

  it('events that change no document are counted as ignored', () => {
    const state = lakeState([
      ev(1, 1, 'create', 'shop.fresh', undefined, null),
      ev(1, 2, 'createIndexes', 'shop.fresh', undefined, null, { operation_description: '{"indexes":[]}' }),
      ev(1, 3, 'invalidate', 'shop.fresh', undefined, null),
    ]);
    expect(state.collections).toEqual(new Map([['shop.fresh', new Map()]]));
    expect(state).toMatchObject({ events: 3, ignored: 2 });
  });

  it('documents are compared as canonical text: any spelling of the same EJSON gives the same state', () => {
    const e = ev(1, 1, 'insert', 'shop.orders', a, null, { full_document: ' { "_id" : {"$oid":"6561a1b2c3d4e5f601234567"}, "n": {"$numberDouble": "5"} }' });
    expect(lakeState([e]).collections.get('shop.orders')!.get(ej(a))).toBe('{"_id":{"$oid":"6561a1b2c3d4e5f601234567"},"n":{"$numberDouble":"5.0"}}');
    expect(EJSON.parse(lakeState([e]).collections.get('shop.orders')!.get(ej(a))!, { relaxed: false }).n).toBeInstanceOf(Double);
  });

  it('refuses events of several streams, and document events without an _id', () => {
    expect(() => lakeState([ev(1, 1, 'insert', 'shop.a', a, { _id: a }), ev(1, 1, 'insert', 'shop.a', b, { _id: b }, { stream: 'other' })])).toThrow(SeveralStreamsError);
    expect(() => lakeState([ev(1, 1, 'insert', 'shop.a', undefined, { x: 1 })])).toThrow(UnplaceableEventError);
  });
});
