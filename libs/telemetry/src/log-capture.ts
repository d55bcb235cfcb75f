import { Writable } from 'node:stream';

/** A log destination that keeps parsed JSON lines in memory: for tests asserting on what was logged. */
export function createLogCapture(): { destination: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { destination, lines };
}
