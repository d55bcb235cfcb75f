import { ECHO_MAX_CHUNKS, echoChunks, EchoRunnable } from '../src/runnables/echo-runnable';

describe('echo', () => {
  it('streams a short text word by word, spaces kept', async () => {
    const chunks: unknown[] = [];
    for await (const c of await new EchoRunnable().stream('hello  big world')) chunks.push(c);
    expect(chunks).toEqual(['hello', '  big', ' world']);
  });

  it('streams a long text in at most ECHO_MAX_CHUNKS pieces that join back to it (stream_log stays bounded)', () => {
    const text = Array.from({ length: 10_000 }, (_, i) => `w${i}`).join(' ');
    const pieces = echoChunks(text);
    expect(pieces.length).toBeLessThanOrEqual(ECHO_MAX_CHUNKS);
    expect(pieces.join('')).toBe(text);
    // What stream_log sends: every chunk plus the output so far with each.
    let sent = 0;
    let soFar = 0;
    for (const p of pieces) sent += p.length + (soFar += p.length);
    expect(sent).toBeLessThan(text.length * (ECHO_MAX_CHUNKS / 2 + 2));
  });
});
