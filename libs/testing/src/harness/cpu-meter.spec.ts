import { Child, NODE } from './child';
import { CpuMeter } from './cpu-meter';
import { machineFacts } from './machine-facts';
import { openFilesLimit, procMemMiB, procThreadCpu, threadGroupsDelta } from './proc-stats';
import { Sampler } from './sampler';

describe('CpuMeter and /proc readers', () => {
  it('attributes a busy child’s CPU to it, and reads its memory and threads', async () => {
    const busy = new Child('busy', NODE, ['-e', 'const end = Date.now() + 600; while (Date.now() < end); setInterval(() => {}, 1000)']);
    try {
      const meter = new CpuMeter({ busy: busy.pid, gone: 999_999_999 });
      const before = procThreadCpu(busy.pid);
      const rss = new Sampler(() => procMemMiB(busy.pid).rssMiB, 50).start();
      await new Promise((r) => setTimeout(r, 800));
      const reading = meter.read();
      await rss.stop();
      expect(reading.seconds.busy).toBeGreaterThan(0.3);
      expect(reading.cores.busy).toBeGreaterThan(0.3);
      expect(reading.seconds.gone).toBeNaN();
      expect(reading.mainThread.busy.onCpu).toBeGreaterThan(0.3);
      expect(threadGroupsDelta(before, procThreadCpu(busy.pid)).main).toBeGreaterThan(0.3);
      expect(rss.peak).toBeGreaterThan(10);
    } finally {
      await busy.stop('SIGKILL');
    }
    expect(procMemMiB(busy.pid).rssMiB).toBeNaN();
  });

  it('describes the machine and this process’s open-files limit', () => {
    const m = machineFacts();
    expect(m.nproc).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(openFilesLimit().soft).toBeGreaterThan(0);
  });
});
