import { getEventListeners } from 'node:events';
import { delay, pause } from './delay';

describe('pause', () => {
  it('leaves no abort listener behind once it has waited', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) await pause(0, ac.signal);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('ends at once, without an error, when the signal aborts', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const waiting = pause(60_000, ac.signal);
    ac.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(pause(60_000, ac.signal)).resolves.toBeUndefined();
  });
});

describe('delay', () => {
  it('rejects with the signal\'s reason as soon as it aborts, and leaves no listener behind once it has waited', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) await delay(0, ac.signal);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const reason = new Error('stopped');
    const waiting = delay(60_000, ac.signal);
    ac.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(delay(1, ac.signal)).rejects.toBe(reason);
  });
});
