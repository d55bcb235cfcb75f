import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Child } from './child';

/** Waits until something listens on 127.0.0.1:`port`; fails at once if `child` exits meanwhile. */
export async function waitForPort(port: number, child?: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && !child.running) throw new Error(`${child.name} exited (${child.exitCode}) before listening on ${port}:\n${child.tail()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${child?.name ?? 'nothing'} did not listen on ${port} within ${timeoutMs} ms${child ? `:\n${child.tail()}` : ''}`);
    await sleep(50);
  }
}

/** Waits until GET `url` answers 200; fails at once if `child` exits meanwhile. */
export async function waitForOk(url: string, child?: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && !child.running) throw new Error(`${child.name} exited (${child.exitCode}) while starting:\n${child.tail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child?.name ?? url} not ready within ${timeoutMs} ms${child ? `:\n${child.tail()}` : ''}`);
    await sleep(50);
  }
}

/** Thrown by eventually() when a process it watches exits: waiting on would only run out the clock. */
export class ProcessExitedError extends Error {
  override readonly name = 'ProcessExitedError';
}

/**
 * Polls `check` until it returns a truthy value (returned), failing after `timeoutMs` with the last
 * error. With `unless`, fails at once when one of those processes is no longer running (its output's
 * tail in the message): a check that throws is retried, so a dead service would otherwise only show
 * as a timeout.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  everyMs = 100,
  unless: readonly Child[] = [],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    for (const child of unless) {
      if (!child.running) throw new ProcessExitedError(`${child.name} exited (${child.exitCode}) while waiting for ${what}:\n${child.tail()}`);
    }
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}
