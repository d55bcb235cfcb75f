import { procRssMiB } from './proc-stats';

/** Calls `read` every `everyMs` until stopped; values oldest first, failed reads (NaN) left out. */
export class Sampler {
  readonly samples: { atMs: number; value: number }[] = [];
  #timer: NodeJS.Timeout | undefined;
  #t0 = Date.now();
  #pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly read: () => Promise<number> | number,
    private readonly everyMs: number,
  ) {}

  start(): this {
    this.#t0 = Date.now();
    const tick = () => {
      this.#pending = Promise.resolve(this.read()).then((value) => {
        if (Number.isFinite(value)) this.samples.push({ atMs: Date.now() - this.#t0, value });
      });
    };
    tick();
    this.#timer = setInterval(tick, this.everyMs);
    return this;
  }

  /** Stops after one last read, so the end of the run is in the series. */
  async stop(): Promise<number[]> {
    clearInterval(this.#timer);
    await this.#pending;
    const last = await this.read();
    if (Number.isFinite(last)) this.samples.push({ atMs: Date.now() - this.#t0, value: last });
    return this.samples.map((s) => s.value);
  }

  /** The largest value seen (NaN when none). */
  get peak(): number {
    return this.samples.length ? Math.max(...this.samples.map((s) => s.value)) : Number.NaN;
  }
}

/** The RSS of each named process (procRssMiB) sampled every `everyMs`; stop() gives each one's peak, MiB (NaN when never read). */
export class RssPeaks {
  readonly #samplers: [string, Sampler][];

  constructor(pids: Record<string, number | undefined>, everyMs = 200) {
    this.#samplers = Object.entries(pids).map(([name, pid]) => [name, new Sampler(() => procRssMiB(pid), everyMs).start()]);
  }

  async stop(): Promise<Record<string, number>> {
    await Promise.all(this.#samplers.map(([, s]) => s.stop()));
    return Object.fromEntries(this.#samplers.map(([name, s]) => [name, s.peak]));
  }
}
