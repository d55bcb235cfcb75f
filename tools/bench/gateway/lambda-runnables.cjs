'use strict';
/**
 * RUNNABLES_MODULE for the lambda comparison of tools/bench/gateway/run.ts (issue 9, "Proof and
 * benchmark"): the same module is loaded by the gateway and by `bare-server.ts lambda`, so both serve
 * the very same runnable objects and the difference measured is the server around them.
 *
 *   lambda         POST /lambda/invoke: `RunnableLambda.from((x) => x)`, the plainest LangChain runnable
 *                  (its stream() yields the output as one chunk, so it cannot measure streaming).
 *   lambda_chunks  POST /lambda_chunks/stream: a RunnableLambda over an async generator that yields
 *                  LAMBDA_CHUNKS (default 8) small objects, so the per-chunk path (serialisation, one SSE
 *                  frame and one socket write per chunk) is what the stream comparison measures.
 *
 * CommonJS on purpose: the gateway loads it with import(), and '@langchain/core/runnables' resolves
 * from the repository's node_modules.
 */
const { RunnableLambda } = require('@langchain/core/runnables');

const CHUNKS = Math.max(1, Math.floor(Number(process.env.LAMBDA_CHUNKS ?? 8)));

const lambda = RunnableLambda.from((x) => x);

const lambdaChunks = RunnableLambda.from(async function* lambdaChunks(input) {
  for (let index = 0; index < CHUNKS; index++) yield { index, of: CHUNKS, input };
});

module.exports.CHUNKS = CHUNKS;
/** @type {import('../../../apps/gateway/src/registry/runnables-module').RegisterRunnables} */
module.exports.register = (registry) => {
  registry.addRoutes(lambda, { path: 'lambda', description: 'RunnableLambda.from((x) => x): the benchmark baseline for invoke.' });
  registry.addRoutes(lambdaChunks, { path: 'lambda_chunks', description: `Yields ${CHUNKS} chunks: the benchmark baseline for stream.` });
};
