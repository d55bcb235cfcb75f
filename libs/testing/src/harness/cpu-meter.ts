import { machineBusySeconds, procCpuSeconds, schedStat } from './proc-stats';

export interface CpuReading {
  wallS: number;
  /** CPU seconds of each named process over the span. */
  seconds: Record<string, number>;
  /** The same, as cores (seconds / wall seconds). */
  cores: Record<string, number>;
  /** Share of wall time each process's main thread spent on a CPU, waiting for one, and idle. */
  mainThread: Record<string, { onCpu: number; waitingForCpu: number; idle: number }>;
  /** Cores used by everything else on the machine: the noise a measurement is judged by. */
  otherCores: number;
  machineCores: number;
}

/**
 * CPU used by each named process, and by everything else on the machine, from construction to each
 * read(). Benchmarks on a shared machine report CPU per unit of work (steadier than wall time) and
 * repeat a measurement when `otherCores` says the machine was busy with something else.
 */
export class CpuMeter {
  readonly #t0 = performance.now();
  readonly #m0 = machineBusySeconds();
  readonly #p0: Map<string, number>;
  readonly #s0: Map<string, { onCpuS: number; waitS: number }>;

  constructor(private readonly pids: Record<string, number | undefined>) {
    this.#p0 = new Map(Object.entries(pids).map(([k, pid]) => [k, procCpuSeconds(pid)]));
    this.#s0 = new Map(Object.entries(pids).map(([k, pid]) => [k, schedStat(pid)]));
  }

  read(): CpuReading {
    const wallS = (performance.now() - this.#t0) / 1000;
    const seconds: Record<string, number> = {};
    const mainThread: CpuReading['mainThread'] = {};
    for (const [k, pid] of Object.entries(this.pids)) {
      seconds[k] = procCpuSeconds(pid) - this.#p0.get(k)!;
      const s0 = this.#s0.get(k)!;
      const s1 = schedStat(pid);
      const onCpu = (s1.onCpuS - s0.onCpuS) / wallS;
      const waitingForCpu = (s1.waitS - s0.waitS) / wallS;
      mainThread[k] = { onCpu, waitingForCpu, idle: Math.max(0, 1 - onCpu - waitingForCpu) };
    }
    const machine = machineBusySeconds() - this.#m0;
    const mine = Object.values(seconds).filter(Number.isFinite).reduce((a, b) => a + b, 0);
    const cores = Object.fromEntries(Object.entries(seconds).map(([k, s]) => [k, s / wallS]));
    return { wallS, seconds, cores, mainThread, otherCores: Math.max(0, machine - mine) / wallS, machineCores: machine / wallS };
  }
}
