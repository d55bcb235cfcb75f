import { Timestamp } from 'bson';
import { ClusterClock } from './cluster-clock';
import { Oplog } from './oplog';
import { decodeToken, encodeToken, tokenTimestamp } from './resume-token';

describe('oplog, cluster clock and resume tokens', () => {
  it('tokens open with 82 + seconds + increment (big endian hex) and decode to what was encoded', () => {
    const ts = new Timestamp({ t: 1_795_000_000, i: 258 });
    const token = encodeToken({ ts, kind: 'event', instance: 0xdeadbeef, pos: 2 ** 40 + 5, fragment: 3 });
    expect(token._data.slice(0, 18)).toBe(`82${(1_795_000_000).toString(16).toUpperCase()}00000102`);
    expect(decodeToken(token)).toEqual({ ts, kind: 'event', instance: 0xdeadbeef, pos: 2 ** 40 + 5, fragment: 3 });
    expect(decodeToken(encodeToken({ ts, kind: 'hwm', instance: 1, pos: 9 }))?.fragment).toBeUndefined();
    expect(tokenTimestamp({ _data: '8263A1B2C3000000042B022C0100296E5A1004' })).toEqual(new Timestamp({ t: 0x63a1b2c3, i: 4 }));
    expect(decodeToken({ _data: '8263A1B2C3000000042B022C0100296E5A1004' })).toBeUndefined();
  });

  it('the clock increases strictly, follows the wall clock, and moves on by itself once a second (the idle no-op)', () => {
    let now = 1_000_000;
    const clock = new ClusterClock(() => now);
    const a = clock.next();
    const b = clock.next();
    expect([a.t, a.i, b.t, b.i]).toEqual([1000, 1, 1000, 2]);
    expect(clock.now()).toEqual(b);
    now += 1000;
    const idle = clock.now();
    expect([idle.t, idle.i]).toEqual([1001, 1]);
    expect(clock.next().i).toBe(2);
  });

  it('keeps a window of entries: positions stay stable, old ones go, history lost is by time', () => {
    let now = 5_000_000;
    const oplog = new Oplog(new ClusterClock(() => now), 3);
    expect(oplog.last).toBe(1); // the initiating no-op
    for (let i = 0; i < 5; i++) {
      now += 1000;
      oplog.append({ op: 'insert', db: 'd', coll: 'c', documentKey: { _id: i } });
    }
    expect([oplog.first, oplog.last]).toEqual([4, 6]);
    expect(oplog.at(3)).toBeUndefined();
    expect(oplog.at(4)?.documentKey).toEqual({ _id: 2 });
    expect(oplog.historyLost(oplog.at(4)!.ts)).toBe(false);
    expect(oplog.historyLost(new Timestamp({ t: 5001, i: 1 }))).toBe(true);
    expect(oplog.positionBefore(oplog.at(5)!.ts)).toBe(4);
    expect(oplog.positionBefore(new Timestamp({ t: 9999, i: 0 }))).toBe(6);
    expect(oplog.truncate(1)).toBe(2);
    expect([oplog.first, oplog.last]).toEqual([6, 6]);
  });

  it('compacts its storage as the window moves (positions still resolve)', () => {
    const oplog = new Oplog(new ClusterClock(), 10);
    for (let i = 0; i < 5000; i++) oplog.append({ op: 'insert', db: 'd', coll: 'c', documentKey: { _id: i } });
    expect(oplog.last - oplog.first + 1).toBe(10);
    expect(oplog.at(oplog.last)?.documentKey).toEqual({ _id: 4999 });
    expect(oplog.at(oplog.first)?.documentKey).toEqual({ _id: 4990 });
  });
});
