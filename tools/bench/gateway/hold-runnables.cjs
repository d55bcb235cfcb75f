'use strict';
/**
 * RUNNABLES_MODULE for the open-streams benchmark (tools/bench/gateway/run.ts).
 *
 *   hold        POST /hold/stream: yields one chunk at once, then holds the stream open until the
 *               run's AbortSignal fires (client gone, request timeout, shutdown) or HOLD_SECONDS
 *               pass (default 300), then ends.
 *   hold_stats  POST /hold_stats/invoke: counters kept by `hold`, so the benchmark can check that
 *               the gateway's `config.signal` reached the runnable and ended every held run.
 *
 * CommonJS on purpose: the gateway loads it with import(), and '@langchain/core/runnables' resolves
 * from the repository's node_modules.
 */
const { RunnableLambda } = require('@langchain/core/runnables');

const holdMs = Math.max(0, Number(process.env.HOLD_SECONDS ?? 300)) * 1000;

const stats = {
  started: 0, // runs that reached the generator
  active: 0, // runs holding right now
  withSignal: 0, // runs that received config.signal
  aborted: 0, // runs released by their AbortSignal
  timedOut: 0, // runs released by HOLD_SECONDS
};

/**
 * Resolves when `signal` aborts or `ms` pass; says which. Cleans up its timer and listener.
 * @param {AbortSignal | undefined} signal
 * @param {number} ms
 * @returns {Promise<'aborted' | 'timeout'>}
 */
function waitForAbortOrTimeout(signal, ms) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('aborted');
    const onAbort = () => {
      clearTimeout(timer);
      resolve('aborted');
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve('timeout');
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const hold = RunnableLambda.from(async function* hold(input, config) {
  stats.started++;
  stats.active++;
  if (config?.signal) stats.withSignal++;
  try {
    yield { held: true, input };
    const why = await waitForAbortOrTimeout(config?.signal, holdMs);
    if (why === 'aborted') stats.aborted++;
    else stats.timedOut++;
  } finally {
    stats.active--;
  }
}).withConfig({ runName: 'hold' });

const holdStats = RunnableLambda.from(() => ({ ...stats, holdSeconds: holdMs / 1000 })).withConfig({ runName: 'hold_stats' });

/** @type {import('../../../apps/gateway/src/registry/runnables-module').RegisterRunnables} */
module.exports.register = (registry) => {
  registry.addRoutes(hold, { path: 'hold' });
  registry.addRoutes(holdStats, { path: 'hold_stats' });
};
