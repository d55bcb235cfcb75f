import { Child, NODE } from './child';
import { CpuMeter } from './cpu-meter';
import { machineFacts } from './machine-facts';
import { openFilesLimit, procCpuSeconds, procMemMiB, procThreadCpu, procTreeCpuSeconds, threadGroupsDelta } from './proc-stats';
import { Sampler } from './sampler';

describe('CpuMeter and /proc readers', () => {
  it('attributes a busy child’s CPU to it, and reads its memory and threads', async () => {
    // It burns 400 ms of its own CPU time (not wall time: the machine may be busy), then says so.
    const busy = new Child('busy', NODE, ['-e', 'while (process.cpuUsage().user < 400_000); console.log("done"); setInterval(() => {}, 1000)']);
    try {
      const meter = new CpuMeter({ busy: busy.pid, gone: 999_999_999 });
      const before = procThreadCpu(busy.pid);
      const rss = new Sampler(() => procMemMiB(busy.pid).rssMiB, 50).start();
      await busy.waitForOutput(/done/, 30_000);
      const reading = meter.read();
      await rss.stop();
      expect(reading.seconds.busy).toBeGreaterThan(0.3);
      expect(reading.cores.busy).toBeGreaterThan(0);
      expect(reading.seconds.gone).toBeNaN();
      expect(reading.mainThread.busy.onCpu).toBeGreaterThan(0);
      expect(threadGroupsDelta(before, procThreadCpu(busy.pid)).main).toBeGreaterThan(0.3);
      expect(rss.peak).toBeGreaterThan(10);
    } finally {
      await busy.stop('SIGKILL');
    }
    expect(procMemMiB(busy.pid).rssMiB).toBeNaN();
  });

  it('counts a process tree’s CPU: the root, its live children and the ones it reaped', async () => {
    const spin = (ms: number) => `while (process.cpuUsage().user < ${ms * 1000});`; // CPU time, not wall time
    const script = `const { spawn, spawnSync } = require('node:child_process'); spawnSync(process.execPath, ['-e', '${spin(300)}']); spawn(process.execPath, ['-e', '${spin(300)} setInterval(() => {}, 1000)']); setInterval(() => {}, 1000)`;
    const root = new Child('tree', NODE, ['-e', script]);
    try {
      // until both children's 300 ms spins are done (the machine may be busy)
      const end = Date.now() + 10_000;
      while (Date.now() < end && !(procTreeCpuSeconds(root.pid) > procCpuSeconds(root.pid) + 0.55)) await new Promise((r) => setTimeout(r, 100));
      expect(procTreeCpuSeconds(root.pid)).toBeGreaterThan(procCpuSeconds(root.pid) + 0.55);
    } finally {
      await root.stop('SIGKILL');
    }
    expect(procTreeCpuSeconds(root.pid)).toBeNaN();
    expect(procTreeCpuSeconds(undefined)).toBeNaN();
  });

  it('describes the machine and this process’s open-files limit', () => {
    const m = machineFacts();
    expect(m.nproc).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(openFilesLimit().soft).toBeGreaterThan(0);
  });
});
