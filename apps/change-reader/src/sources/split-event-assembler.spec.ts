import { Int32, Timestamp } from 'bson';
import { BrokenSplitEventError, SplitEventAssembler } from './split-event-assembler';

const token = (n: number) => ({ _data: `82000000010000000${n}` });
const fragment = (n: number, of: number, fields: Record<string, unknown>) => ({ _id: token(n), splitEvent: { fragment: new Int32(n), of: new Int32(of) }, ...fields });

describe('SplitEventAssembler', () => {
  const meta = { operationType: 'update', clusterTime: new Timestamp({ t: 1, i: 2 }), ns: { db: 'shop', coll: 'orders' }, documentKey: { _id: 1 } };

  it('merges the fragments of one cursor into the whole event: every field, no splitEvent, the last fragment\'s _id', () => {
    const a = new SplitEventAssembler();
    expect(a.add(fragment(1, 3, { ...meta, fullDocumentBeforeChange: { b: 1 } }), 1)).toBeUndefined();
    expect(a.pending).toBe(true);
    expect(a.progress).toBe('1 of 3');
    expect(a.add(fragment(2, 3, { fullDocument: { a: 1 } }), 1)).toBeUndefined();
    const whole = a.add(fragment(3, 3, { updateDescription: { updatedFields: { a: 1 } } }), 1);
    expect(whole).toEqual({ fragments: 3, change: { _id: token(3), ...meta, fullDocumentBeforeChange: { b: 1 }, fullDocument: { a: 1 }, updateDescription: { updatedFields: { a: 1 } } } });
    expect(a.pending).toBe(false);
  });

  it('takes plain numbers too, and a one-fragment split', () => {
    const a = new SplitEventAssembler();
    expect(a.add({ _id: token(1), splitEvent: { fragment: 1, of: 1 }, ...meta }, 7)).toEqual({ fragments: 1, change: { _id: token(1), ...meta } });
  });

  const broken: [string, (a: SplitEventAssembler) => unknown, RegExp][] = [
    ['a fragment from another cursor (the driver resumed)', (a) => a.add(fragment(2, 3, {}), 2), /the driver resumed the stream after fragment 1 of 3/],
    ['a fragment out of order', (a) => a.add(fragment(3, 3, {}), 1), /fragment 3 of 3 arrived after fragment 1 of 3/],
    ['another total', (a) => a.add(fragment(2, 2, {}), 1), /fragment 2 of 2 arrived after fragment 1 of 3/],
    ['fragment 1 again', (a) => a.add(fragment(1, 3, {}), 1), /fragment 1 of 3 arrived after fragment 1 of 3/],
    ['an event that is no fragment', (a) => a.add({ _id: token(9), ...meta }, 1), /not a fragment arrived after fragment 1 of 3/],
  ];
  it.each(broken)('refuses %s and forgets what it had', (_name, next, message) => {
    const a = new SplitEventAssembler();
    a.add(fragment(1, 3, meta), 1);
    expect(() => next(a)).toThrow(BrokenSplitEventError);
    expect(a.pending).toBe(false);
    a.add(fragment(1, 3, meta), 1);
    expect(() => next(a)).toThrow(message);
  });

  it('refuses a first fragment that is not fragment 1, and a splitEvent that makes no sense', () => {
    expect(() => new SplitEventAssembler().add(fragment(2, 3, {}), 1)).toThrow(/fragment 2 of 3 arrived without the fragments before it/);
    expect(() => new SplitEventAssembler().add({ _id: token(1), splitEvent: { fragment: 3, of: 2 } }, 1)).toThrow(/invalid splitEvent/);
    expect(() => new SplitEventAssembler().add({ _id: token(1), splitEvent: { fragment: 'x', of: 2 } }, 1)).toThrow(/invalid splitEvent/);
  });
});
