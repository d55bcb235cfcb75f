import { RequestTimeoutError, ShutdownAbortError } from './abort-reasons';
import { Admission } from './admission';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Admission: REQUEST_TIMEOUT with one timer for all runs', () => {
  it('aborts each run at its own deadline, oldest first, with RequestTimeoutError', async () => {
    const admission = new Admission(10, 60);
    const first = new AbortController();
    const second = new AbortController();
    admission.enter(first);
    await sleep(30);
    admission.enter(second);
    await sleep(45);
    expect(first.signal.aborted).toBe(true);
    expect(first.signal.reason).toBeInstanceOf(RequestTimeoutError);
    expect((first.signal.reason as RequestTimeoutError).timeoutMs).toBe(60);
    expect(second.signal.aborted).toBe(false);
    await sleep(40);
    expect(second.signal.aborted).toBe(true);
  });

  it('never aborts a run that left before its deadline, and keeps timing the ones still going', async () => {
    const admission = new Admission(10, 40);
    const done = new AbortController();
    const going = new AbortController();
    const ticket = admission.enter(done);
    admission.enter(going, performance.now() + 20);
    admission.leave(ticket);
    await sleep(50);
    expect(done.signal.aborted).toBe(false);
    expect(going.signal.aborted).toBe(false);
    await sleep(30);
    expect(going.signal.aborted).toBe(true);
  });

  it('counts a timed-out run in flight (and against the cap) until it leaves; a drain aborts it like the others', async () => {
    const admission = new Admission(2, 10);
    const late = new AbortController();
    const lateTicket = admission.enter(late);
    await sleep(30);
    expect(late.signal.aborted).toBe(true);
    expect(admission.inFlight).toBe(1);
    const other = new AbortController();
    const otherTicket = admission.enter(other, performance.now() + 60_000);
    expect(admission.full).toBe(true);
    let drained = false;
    const drain = admission.drain(5).then(() => (drained = true));
    await sleep(20);
    expect(other.signal.reason).toBeInstanceOf(ShutdownAbortError);
    expect(drained).toBe(false);
    admission.leave(lateTicket);
    admission.leave(otherTicket);
    await drain;
    expect(admission.inFlight).toBe(0);
  });

  it('leaves in any order, counts a ticket left twice once, and still times the runs between', async () => {
    const admission = new Admission(10, 30);
    const runs = [new AbortController(), new AbortController(), new AbortController()];
    const tickets = runs.map((run) => admission.enter(run));
    admission.leave(tickets[1]);
    admission.leave(tickets[1]);
    expect(admission.inFlight).toBe(2);
    admission.leave(tickets[0]);
    expect(admission.inFlight).toBe(1);
    await sleep(50);
    expect(runs.map((run) => run.signal.aborted)).toEqual([false, false, true]);
    admission.leave(tickets[2]);
    admission.leave(tickets[2]);
    expect(admission.inFlight).toBe(0);
    // The queue is empty but whole: a new run is timed as the first was.
    const next = new AbortController();
    admission.enter(next);
    await sleep(50);
    expect(next.signal.aborted).toBe(true);
  });
});
