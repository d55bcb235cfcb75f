import { EventEmitter } from 'node:events';
import { createLogCapture, createLogger } from '@runnel/telemetry';
import { untilAborted } from './backoff';
import { endpointOf, interruptedExitCode, ProcessSignals, StartupInterruptedError } from './process-signals';
import { ServiceLifecycle } from './service-lifecycle';

function installed() {
  const events = new EventEmitter();
  const lines: string[] = [];
  const exits: [number, number][] = [];
  const signals = ProcessSignals.install('svc', { events, write: (l) => void lines.push(l), exit: (code, graceMs) => void exits.push([code, graceMs]) });
  return { events, lines, exits, signals };
}

describe('ProcessSignals', () => {
  it('a SIGTERM during start-up: one line naming what start-up waits for, exit 143, start-up aborted', () => {
    const { events, lines, exits, signals } = installed();
    let status = 'reconnecting';
    signals.waitingFor(() => (status === 'ready' ? 'checking Redis' : 'Redis at redis://redis:6379 not reachable yet'));
    status = 'connecting'; // asked at the signal, not when set
    events.emit('SIGTERM');
    expect(lines).toEqual(['svc: start-up interrupted by SIGTERM (Redis at redis://redis:6379 not reachable yet); exiting with 143\n']);
    expect(exits).toEqual([[143, 300]]);
    expect(signals.interrupted).toBe('SIGTERM');
    expect(signals.signal.aborted).toBe(true);
    expect(signals.signal.reason).toBeInstanceOf(StartupInterruptedError);
    // Start-up then rejects; main.ts's catch adds nothing, and a second signal changes nothing.
    signals.startFailed(signals.signal.reason);
    events.emit('SIGTERM');
    events.emit('SIGINT');
    expect(lines).toHaveLength(1);
    expect(exits).toHaveLength(1);
  });

  it('SIGINT exits 130 (128 + the signal number, as shells report it); nothing waited for: no parenthesis', () => {
    const { events, lines, exits, signals } = installed();
    signals.waitingFor('PostgreSQL')(); // undone
    events.emit('SIGINT');
    expect(lines).toEqual(['svc: start-up interrupted by SIGINT; exiting with 130\n']);
    expect(exits).toEqual([[130, 300]]);
    expect([interruptedExitCode('SIGTERM'), interruptedExitCode('SIGINT')]).toEqual([143, 130]);
  });

  it('once handed over, signals go to the lifecycle only: no line, no exit of its own', () => {
    const { events, lines, exits, signals } = installed();
    const got: string[] = [];
    signals.handOver((s) => got.push(s));
    events.emit('SIGTERM');
    events.emit('SIGINT');
    expect(got).toEqual(['SIGTERM', 'SIGINT']);
    expect(lines).toEqual([]);
    expect(exits).toEqual([]);
    expect(signals.signal.aborted).toBe(false);
  });

  it('a start-up failure that is no interruption: "failed to start" and exit 1', () => {
    const { lines, exits, signals } = installed();
    signals.startFailed(new Error('Redis is not safe'));
    expect(lines).toEqual(['svc: failed to start: Redis is not safe\n']);
    expect(exits).toEqual([[1, 2_000]]);
  });

  it('endpointOf keeps scheme, host and port: never a password', () => {
    expect(endpointOf('rediss://user:hunter2@redis.internal:6380/2?x=1')).toBe('rediss://redis.internal:6380');
    expect(endpointOf({ reveal: () => 'postgres://u:pw@db/agents' })).toBe('postgres://db');
    expect(endpointOf('not a url')).toBe('(unparsable URL)');
  });

  it('ServiceLifecycle.start() takes the signals over: SIGTERM once started drains and exits 0', async () => {
    const { events, lines, exits: ownExits, signals } = installed();
    const { destination } = createLogCapture();
    const exits: number[] = [];
    const lc = new ServiceLifecycle({ name: 'svc', logger: createLogger({ service: 'svc', destination }), shutdownTimeoutMs: 1_000, signals, exit: (c) => exits.push(c) });
    const steps: string[] = [];
    lc.onShutdown('work', () => void steps.push('work'));
    lc.start();
    events.emit('SIGTERM');
    await lc.shutdown();
    expect(steps).toEqual(['work']);
    expect(exits).toEqual([0]);
    expect(lines).toEqual([]);
    expect(ownExits).toEqual([]);
  });
});

describe('start-up waits end at the abort, not after their backoff', () => {
  // (delay's abort: delay.spec.ts.)
  it('untilAborted: the work when it ends first, the abort when that comes first', async () => {
    const ac = new AbortController();
    await expect(untilAborted(Promise.resolve(7), ac.signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error('refused')), ac.signal)).rejects.toThrow('refused');
    const never = new Promise<never>(() => undefined);
    const waiting = untilAborted(never, ac.signal);
    ac.abort(new StartupInterruptedError('SIGINT'));
    await expect(waiting).rejects.toMatchObject({ signal: 'SIGINT' });
    await expect(untilAborted(never, ac.signal)).rejects.toBeInstanceOf(StartupInterruptedError);
  });
});
