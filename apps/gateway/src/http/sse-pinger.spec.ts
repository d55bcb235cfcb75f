import { Pinger } from './sse-pinger';

describe('Pinger', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const stream = () => ({ pings: 0, ping() { this.pings++; } });

  it('pings every open stream once per interval, and a closed one no more', () => {
    const p = new Pinger(1_000);
    const a = stream();
    const b = stream();
    p.add(a);
    p.add(b);
    expect(p.size).toBe(2);
    jest.advanceTimersByTime(1_000);
    expect([a.pings, b.pings]).toEqual([1, 1]);
    p.delete(a);
    jest.advanceTimersByTime(2_000);
    expect([a.pings, b.pings]).toEqual([1, 3]);
  });

  it('stops its timer at the first tick with no stream open, and starts it again for the next stream', () => {
    const p = new Pinger(1_000);
    const a = stream();
    p.add(a);
    expect(p.running).toBe(true);
    jest.advanceTimersByTime(500);
    p.delete(a);
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
      const s = stream();
      p.add(s);
      p.delete(s);
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
});
