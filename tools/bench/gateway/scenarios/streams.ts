// Open streams: --streams concurrent POST /hold/stream held open on a gateway with hold-runnables.cjs,
// memory read with them open, all closed and checked released; then the same on a bare node:http control.
import { setTimeout as sleep } from 'node:timers/promises';
import { procMemMiB } from '@runnel/testing';
import type { LoadClient } from '../load-client';
import { gatewayMetrics, type Server, type ServerCode, startHoldBare, startHoldGateway, stopServer } from '../servers';
import { BODY, HEADERS, log } from '../workload';

interface HoldStats {
  started: number;
  active: number;
  withSignal: number;
  aborted: number;
  timedOut: number;
  holdSeconds: number;
}

/**
 * Opens `n` concurrent POST /hold/stream on `server`, waits for every first `event: data`, reads
 * memory, closes them all and waits until none is left open. On the gateway "open" is the
 * runnel_gateway_open_streams gauge; on the bare control it is the number of held runs.
 */
async function streamsOn(load: LoadClient, server: Server, n: number) {
  const isGateway = server.kind === 'gateway';
  const holdStats = async (): Promise<HoldStats> => {
    const r = await fetch(`http://127.0.0.1:${server.port}/hold_stats/invoke`, { method: 'POST', headers: HEADERS, body: '{"input":null}' });
    return ((await r.json()) as { output: HoldStats }).output;
  };
  const openNow = async () => (isGateway ? (await gatewayMetrics(server)).runnel_gateway_open_streams : (await holdStats()).active);
  const streamReq = { host: '127.0.0.1', port: server.port, path: '/hold/stream', body: BODY, headers: HEADERS };
  const waitForZero = async (timeoutMs = 30_000) => {
    const t0 = performance.now();
    let open: number | undefined;
    while (performance.now() - t0 < timeoutMs) {
      open = await openNow();
      if (open === 0) break;
      await sleep(100);
    }
    return { ms: performance.now() - t0, open };
  };

  // Warm-up: some streams opened and closed, so the code paths are compiled before the baseline.
  log(`streams (${server.name}): warm-up (200 streams opened and closed)`);
  await load.ask('streams-open', { ...streamReq, count: 200 });
  await load.ask('streams-close', {});
  await waitForZero();
  await sleep(1000);
  const before = { ...procMemMiB(server.pid), hold: await holdStats() };
  log(`streams (${server.name}): RSS before ${before.rssMiB.toFixed(1)} MiB; opening ${n} streams`);

  const opened = await load.ask('streams-open', { ...streamReq, count: n, window: 200 });
  await sleep(500);
  const open: ReturnType<typeof procMemMiB> & typeof opened & { openNow: number; hold: HoldStats; inFlightGauge?: number; metricRssMiB?: number; heapUsedMiB?: number; heapTotalMiB?: number; externalMiB?: number; openFds?: number } = {
    ...procMemMiB(server.pid),
    ...opened,
    openNow: await openNow(),
    hold: await holdStats(),
  };
  if (isGateway) {
    const m = await gatewayMetrics(server);
    Object.assign(open, {
      inFlightGauge: m.runnel_gateway_in_flight,
      metricRssMiB: m.process_resident_memory_bytes / 2 ** 20,
      heapUsedMiB: m.nodejs_heap_size_used_bytes / 2 ** 20,
      heapTotalMiB: m.nodejs_heap_size_total_bytes / 2 ** 20,
      externalMiB: m.nodejs_external_memory_bytes / 2 ** 20,
      openFds: m.process_open_fds,
    });
  }
  log(
    `streams (${server.name}): ${open.open}/${n} got first data in ${(open.openMs / 1000).toFixed(1)} s (failed ${open.failed}); ` +
      `${isGateway ? 'open_streams gauge' : 'held runs'} ${open.openNow}; RSS ${open.rssMiB.toFixed(1)} MiB` +
      (isGateway ? ` (metric ${open.metricRssMiB!.toFixed(1)} MiB), heap used ${open.heapUsedMiB!.toFixed(1)} / total ${open.heapTotalMiB!.toFixed(1)} MiB` : ''),
  );

  const closed = await load.ask('streams-close', {});
  const drop = await waitForZero();
  await sleep(1000);
  const after = { ...procMemMiB(server.pid), ...closed, dropMs: drop.ms, openNow: drop.open, hold: await holdStats() };
  const released = after.hold.aborted - before.hold.aborted;
  log(
    `streams (${server.name}): closed ${after.closed}; open ${after.openNow} after ${after.dropMs.toFixed(0)} ms; held runs still active ${after.hold.active}; ` +
      `released by AbortSignal ${released}/${open.open}; RSS ${after.rssMiB.toFixed(1)} MiB`,
  );
  return { streams: n, before, open, after, releasedBySignal: released, perStreamKiB: ((open.rssMiB - before.rssMiB) * 1024) / (open.open || 1) };
}
type StreamsOn = Awaited<ReturnType<typeof streamsOn>>;
export type StreamsResult = StreamsOn & { control: StreamsOn };

export async function streamsPhase(load: LoadClient, code: ServerCode, streams: number, nofile?: number): Promise<StreamsResult> {
  const gw = await startHoldGateway(code, 'gateway-streams', streams, nofile);
  const gateway = await streamsOn(load, gw, streams);
  await stopServer(gw);
  // Control: the same runnable streamed by a bare node:http server, for what LangChain + node:http cost alone.
  const bare = await startHoldBare(code, 'bare-hold-stream', nofile);
  const control = await streamsOn(load, bare, streams);
  await stopServer(bare);
  return { ...gateway, control };
}
