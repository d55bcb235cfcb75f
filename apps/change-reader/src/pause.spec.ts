import { getEventListeners } from 'node:events';
import { pause } from './pause';

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
