import { Pinger } from './sse-pinger';

describe('Pinger', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const stream = () => ({ pings: 0, ping() { this.pings++; } });

  it('pings every open stream once per interval, and a closed one no more', () => {
    const p = new Pinger(1_000);
    const a = stream();
    const b = stream();
    const entryA = p.add(a);
    p.add(b);
    expect(p.size).toBe(2);
    jest.advanceTimersByTime(1_000);
    expect([a.pings, b.pings]).toEqual([1, 1]);
    p.delete(entryA);
    p.delete(entryA);
    expect(p.size).toBe(1);
    jest.advanceTimersByTime(2_000);
    expect([a.pings, b.pings]).toEqual([1, 3]);
  });

  it('stops its timer at the first tick with no stream open, and starts it again for the next stream', () => {
    const p = new Pinger(1_000);
    const a = stream();
    const entryA = p.add(a);
    expect(p.running).toBe(true);
    jest.advanceTimersByTime(500);
    p.delete(entryA);
    // Closing the last stream leaves the timer to its next tick...
    expect(p.running).toBe(true);
    expect(p.size).toBe(0);
    jest.advanceTimersByTime(500);
    // ...which finds nothing open and stops it, pinging nobody.
    expect(p.running).toBe(false);
    expect(a.pings).toBe(0);
    const b = stream();
    p.add(b);
    expect(p.running).toBe(true);
    jest.advanceTimersByTime(1_000);
    expect(b.pings).toBe(1);
  });

  it('a stream opened and closed between two ticks keeps the one timer', () => {
    const p = new Pinger(1_000);
    const a = stream();
    p.add(a);
    for (let i = 0; i < 100; i++) {
      p.delete(p.add(stream()));
    }
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(1_000);
    expect(a.pings).toBe(1);
  });

  it('no timer at all with an interval of 0 (STREAM_PING_INTERVAL=0)', () => {
    const p = new Pinger(0);
    p.add(stream());
    expect(p.running).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('keeps pinging the others when streams close in any order, also from inside a ping', () => {
    const p = new Pinger(1_000);
    const streams = Array.from({ length: 4 }, stream);
    const entries = streams.map((s) => p.add(s));
    // While being pinged, each of the middle two closes the other one (a write that fails at once).
    streams[1].ping = function () {
      this.pings++;
      p.delete(entries[2]);
    };
    streams[2].ping = function () {
      this.pings++;
      p.delete(entries[1]);
    };
    jest.advanceTimersByTime(1_000);
    // One of the two was pinged and closed the other, which got no ping; the outer two were pinged.
    expect(streams[0].pings + streams[3].pings).toBe(2);
    expect(streams[1].pings + streams[2].pings).toBe(1);
    expect(p.size).toBe(3);
    p.delete(entries[0]);
    p.delete(entries[3]);
    jest.advanceTimersByTime(1_000);
    expect(streams[0].pings + streams[3].pings).toBe(2);
    expect(streams[1].pings + streams[2].pings).toBe(2);
    expect(p.size).toBe(1);
  });
});
